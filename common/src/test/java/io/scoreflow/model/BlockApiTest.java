package io.scoreflow.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import org.junit.jupiter.api.Test;

/** The networks behave as ordinary DJL blocks. */
class BlockApiTest {

  @Test
  void forwardThroughNdListEqualsApply() {
    try (NDManager m = NDManager.newBaseManager()) {
      Ncsnpp net = ScoreNetworks.build(ScoreNetConfig.tinyDdpmpp(28, 1), m);
      NDArray x = m.randomNormal(new Shape(3, 1, 28, 28));
      NDArray cond = m.create(new float[] {0f, 500f, 999f});
      ParameterStore ps = new ParameterStore(m, false);
      NDList out = net.forward(ps, new NDList(x, cond), false);
      assertEquals(1, out.size());
      assertArrayEquals(
          ScoreNetworks.forward(net, x, cond).toFloatArray(), out.head().toFloatArray(), 0f);
      assertEquals(x.getShape(), net.getOutputShapes(net.inputShapes(3))[0]);
      // DJL's own parameter list and the state dict are the same set of parameters.
      assertEquals(net.getParameters().size(), net.stateDict().size());
      assertEquals(
          ScoreNetworks.parameterCount(net),
          net.stateDict().values().stream().mapToLong(p -> p.getArray().size()).sum());
    }
  }

  @Test
  void evalModeIsDeterministicTrainModeDropsOut() {
    try (NDManager m = NDManager.newBaseManager()) {
      Ncsnpp net =
          ScoreNetworks.build(ScoreNetConfig.tinyDdpmpp(16, 1).toBuilder().initScale(1).build(), m);
      NDArray x = m.randomNormal(new Shape(2, 1, 16, 16));
      NDArray cond = m.create(new float[] {10f, 20f});
      ParameterStore ps = new ParameterStore(m, false);
      float[] a = net.apply(ps, x, cond, false).toFloatArray();
      assertArrayEquals(a, net.apply(ps, x, cond, false).toFloatArray(), 0f);
      float[] t = net.apply(ps, x, cond, true).toFloatArray();
      boolean differs = false;
      for (int i = 0; i < a.length; i++) {
        differs |= a[i] != t[i];
      }
      assertEquals(true, differs, "dropout 0.1 must act in training mode");
    }
  }
}
