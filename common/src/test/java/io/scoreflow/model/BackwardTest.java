package io.scoreflow.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import io.scoreflow.model.ScoreNetConfig.CombineMethod;
import io.scoreflow.model.ScoreNetConfig.EmbeddingType;
import io.scoreflow.model.ScoreNetConfig.Progressive;
import io.scoreflow.model.ScoreNetConfig.ProgressiveInput;
import io.scoreflow.model.ScoreNetConfig.ResblockType;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Forward + backward on random data: shapes, finite outputs, finite gradients everywhere. */
class BackwardTest {

  /** Runs one training step of a squared-output loss; returns the number of nonzero gradients. */
  static int step(ScoreNetwork net, NDManager m, long batch, boolean fourier) {
    Shape[] shapes = net.inputShapes(batch);
    try (NDManager s = m.newSubManager()) {
      NDArray x = s.randomNormal(shapes[0]);
      NDArray cond =
          fourier ? s.randomUniform(0.01f, 50f, shapes[1]) : s.randomUniform(0f, 999f, shapes[1]);
      ParameterStore ps = new ParameterStore(s, false);
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray out = net.apply(ps, x, cond, true);
        assertEquals(shapes[0], out.getShape());
        assertTrue(finite(out), "output not finite");
        gc.backward(out.square().mean());
      }
      int nonzero = 0;
      for (Map.Entry<String, Parameter> e : net.stateDict().entrySet()) {
        if (!e.getValue().requiresGradient()) {
          continue;
        }
        try (NDArray g = e.getValue().getArray().getGradient()) {
          assertTrue(finite(g), "gradient of " + e.getKey() + " not finite");
          if (g.abs().max().getFloat() > 0) {
            nonzero++;
          }
        }
      }
      return nonzero;
    }
  }

  static boolean finite(NDArray a) {
    for (float v : a.toFloatArray()) {
      if (!Float.isFinite(v)) {
        return false;
      }
    }
    return true;
  }

  static int trainable(ScoreNetwork net) {
    return (int) net.stateDict().values().stream().filter(Parameter::requiresGradient).count();
  }

  @Test
  void tinyUnetOnFashionMnistShape() {
    try (NDManager m = NDManager.newBaseManager()) {
      Ncsnpp net = ScoreNetworks.build(ScoreNetConfig.tinyDdpmpp(28, 1), m);
      assertEquals(trainable(net), step(net, m, 4, false), "every parameter gets a gradient");
    }
  }

  @Test
  void tinyNcsnppOnCifarShape() {
    try (NDManager m = NDManager.newBaseManager()) {
      Ncsnpp net = ScoreNetworks.build(ScoreNetConfig.tinyNcsnpp(32, 3), m);
      Parameter fourier = net.stateDict().get("all_modules.0.W");
      assertFalse(fourier.requiresGradient(), "Fourier weights are frozen");
      float[] before = fourier.getArray().toFloatArray();
      assertEquals(trainable(net), step(net, m, 2, true));
      assertEquals(
          java.util.Arrays.toString(before),
          java.util.Arrays.toString(fourier.getArray().toFloatArray()));
    }
  }

  @Test
  void mlpPositionalAndFourier() {
    try (NDManager m = NDManager.newBaseManager()) {
      MlpScoreNet vp = ScoreNetworks.build(MlpConfig.of(2), m);
      assertEquals(trainable(vp), step(vp, m, 64, false));
      MlpScoreNet ve = ScoreNetworks.build(MlpConfig.veOf(5), m);
      assertEquals(trainable(ve), step(ve, m, 64, true));
      assertEquals(1, ve.stateDict().values().stream().filter(p -> !p.requiresGradient()).count());
    }
  }

  static Stream<ScoreNetConfig> variants() {
    ScoreNetConfig.Builder small =
        ScoreNetConfig.ddpmppCont().toBuilder()
            .imageSize(16)
            .channels(2)
            .nf(16)
            .chMult(1, 2)
            .numResBlocks(1)
            .attnResolutions(8);
    return Stream.of(
        small.build().toBuilder().name("ddpm-conv").resblockType(ResblockType.DDPM).build(),
        small.build().toBuilder()
            .name("ddpm-noconv")
            .resblockType(ResblockType.DDPM)
            .resampWithConv(false)
            .build(),
        small.build().toBuilder()
            .name("ddpm-fir-conv")
            .resblockType(ResblockType.DDPM)
            .fir(true)
            .build(),
        small.build().toBuilder()
            .name("ddpm-fir-noconv")
            .resblockType(ResblockType.DDPM)
            .fir(true)
            .resampWithConv(false)
            .skipRescale(false)
            .build(),
        small.build().toBuilder()
            .name("outskip-inskip-sum")
            .fir(true)
            .progressive(Progressive.OUTPUT_SKIP)
            .progressiveInput(ProgressiveInput.INPUT_SKIP)
            .build(),
        small.build().toBuilder()
            .name("residual-inskip-cat")
            .progressive(Progressive.RESIDUAL)
            .progressiveInput(ProgressiveInput.INPUT_SKIP)
            .progressiveCombine(CombineMethod.CAT)
            .build(),
        small.build().toBuilder()
            .name("residual-residual-fir")
            .fir(true)
            .progressive(Progressive.RESIDUAL)
            .progressiveInput(ProgressiveInput.RESIDUAL)
            .skipRescale(false)
            .nonlinearity(Nonlinearity.ELU)
            .build(),
        small.build().toBuilder()
            .name("outskip-residual-fourier")
            .progressive(Progressive.OUTPUT_SKIP)
            .progressiveInput(ProgressiveInput.RESIDUAL)
            .embeddingType(EmbeddingType.FOURIER)
            .scaleBySigma(true)
            .centered(false)
            .build(),
        small.build().toBuilder()
            .name("positional-scale-by-sigma")
            .scaleBySigma(true)
            .nonlinearity(Nonlinearity.LRELU)
            .build());
  }

  @ParameterizedTest
  @MethodSource("variants")
  void everyKnobRunsForwardAndBackward(ScoreNetConfig config) {
    try (NDManager m = NDManager.newBaseManager()) {
      Ncsnpp net = ScoreNetworks.build(config, m);
      int nonzero = step(net, m, 2, config.embeddingType() == EmbeddingType.FOURIER);
      assertEquals(trainable(net), nonzero, config.name() + ": every parameter gets a gradient");
    }
  }

  @Test
  void unconditionalNetworkIgnoresTime() {
    ScoreNetConfig c =
        ScoreNetConfig.tinyDdpmpp(16, 1).toBuilder().conditional(false).attnResolutions().build();
    try (NDManager m = NDManager.newBaseManager()) {
      Ncsnpp net = ScoreNetworks.build(c, m);
      NDArray x = m.randomNormal(new Shape(2, 1, 16, 16));
      NDArray a = ScoreNetworks.forward(net, x, m.create(new float[] {1f, 2f}));
      NDArray b = ScoreNetworks.forward(net, x, m.create(new float[] {500f, 900f}));
      assertEquals(0f, a.sub(b).abs().max().getFloat());
    }
  }
}
