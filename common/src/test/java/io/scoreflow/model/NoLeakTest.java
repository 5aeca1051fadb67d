package io.scoreflow.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import org.junit.jupiter.api.Test;

/**
 * A training step inside a sub-manager leaves nothing behind in the manager that holds the
 * parameters: no view or temporary of a parameter may be attached to it.
 */
class NoLeakTest {

  static int managed(NDManager m) {
    return ((BaseNDManager) m).getManagedArrays().size();
  }

  static void steps(ScoreNetwork net, NDManager base, boolean fourier) {
    Shape[] shapes = net.inputShapes(2);
    for (int i = 0; i < 2; i++) {
      try (NDManager step = base.newSubManager()) {
        NDArray x = step.randomNormal(shapes[0]);
        NDArray cond =
            fourier
                ? step.randomUniform(0.1f, 10f, shapes[1])
                : step.randomUniform(0, 999, shapes[1]);
        ParameterStore ps = new ParameterStore(step, false);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          gc.backward(net.apply(ps, x, cond, true).square().mean());
        }
        ScoreNetworks.forward(net, x, cond);
      }
    }
  }

  @Test
  void probeSeesALeakedParameterView() {
    try (NDManager base = NDManager.newBaseManager()) {
      MlpScoreNet net = ScoreNetworks.build(MlpConfig.of(2), base);
      int before = managed(base);
      NDArray leaked = net.stateDict().get("layers.0.weight").getArray().reshape(-1);
      assertEquals(before + 1, managed(base));
      leaked.close();
    }
  }

  @Test
  void everyArchitecturePathIsClean() {
    ScoreNetConfig[] configs = {
      ScoreNetConfig.tinyNcsnpp(16, 1),
      ScoreNetConfig.tinyDdpmpp(16, 1).toBuilder()
          .resblockType(ScoreNetConfig.ResblockType.DDPM)
          .fir(true)
          .progressive(ScoreNetConfig.Progressive.RESIDUAL)
          .progressiveInput(ScoreNetConfig.ProgressiveInput.INPUT_SKIP)
          .build(),
      ScoreNetConfig.tinyDdpmpp(16, 1).toBuilder()
          .progressive(ScoreNetConfig.Progressive.OUTPUT_SKIP)
          .scaleBySigma(true)
          .build()
    };
    for (ScoreNetConfig c : configs) {
      try (NDManager base = NDManager.newBaseManager()) {
        Ncsnpp net = ScoreNetworks.build(c, base);
        int before = managed(base);
        steps(net, base, c.embeddingType() == ScoreNetConfig.EmbeddingType.FOURIER);
        // the step sub-managers themselves are closed and detached
        assertEquals(before, managed(base), c.name() + ": arrays left in the parameter manager");
      }
    }
    try (NDManager base = NDManager.newBaseManager()) {
      MlpScoreNet net = ScoreNetworks.build(MlpConfig.veOf(3), base);
      int before = managed(base);
      steps(net, base, true);
      assertEquals(before, managed(base), "mlp: arrays left in the parameter manager");
    }
  }
}
