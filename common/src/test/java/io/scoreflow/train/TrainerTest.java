package io.scoreflow.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.typesafe.config.ConfigFactory;
import io.scoreflow.data.BatchStream;
import io.scoreflow.data.GaussianData;
import io.scoreflow.model.MlpConfig;
import io.scoreflow.model.MlpScoreNet;
import io.scoreflow.model.ScoreNetworks;
import io.scoreflow.run.Parametrisation;
import io.scoreflow.sde.ForwardSde;
import io.scoreflow.sde.SdeSpec;
import io.scoreflow.sde.Sdes;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrainerTest {

  static ForwardSde vpLinear() {
    return Sdes.create(
        SdeSpec.resolve(
            "vp-linear",
            Map.of(),
            Map.of(),
            null,
            ConfigFactory.defaultReference().getConfig("scoreflow.sde")));
  }

  static Trainer trainer(NDManager manager, long seed) {
    MlpScoreNet net = ScoreNetworks.build(MlpConfig.of(4), manager);
    GaussianData data =
        GaussianData.builder().dimension(4).mean(1).std(0.5).seed(seed).size(4096).build();
    BatchStream stream = BatchStream.builder().dataset(data).globalBatchSize(64).seed(seed).build();
    return Trainer.builder()
        .network(net)
        .objective(new DsmObjective(vpLinear(), new Parametrisation.NoisePrediction(), 1e-5, seed))
        .stream(stream)
        .adam(new AdamOptions(1e-3, 0.9, 0.999, 1e-8, 10, 1.0))
        .emaRate(0.99)
        .seed(seed)
        .manager(manager)
        .build();
  }

  @Test
  void lossFallsOnGaussianData() {
    try (NDManager manager = NDManager.newBaseManager();
        Trainer trainer = trainer(manager, 7)) {
      double first = 0;
      double last = 0;
      for (int i = 0; i < 300; i++) {
        double loss = trainer.runStep().loss();
        if (i < 20) {
          first += loss / 20;
        }
        if (i >= 280) {
          last += loss / 20;
        }
      }
      // Noise prediction starts near E‖z‖²/d = 1 and must learn a good part of it.
      assertTrue(first > 0.8, "first " + first);
      assertTrue(last < 0.6 * first, "first " + first + " last " + last);
    }
  }

  /**
   * libtorch's grad mode is per thread and on in every thread but the engine's first; a step (and a
   * restore) must work on any thread with either mode, and leave the thread's mode as it was.
   * Before, the parameter update was refused there as an in-place write into a leaf that requires
   * grad (seen from {@code bench step} in CI).
   */
  @Test
  void stepsRunOnAThreadWhoseGradModeIsOn() throws Exception {
    java.util.concurrent.atomic.AtomicReference<Throwable> failure =
        new java.util.concurrent.atomic.AtomicReference<>();
    java.util.concurrent.atomic.AtomicBoolean modeAfter =
        new java.util.concurrent.atomic.AtomicBoolean();
    Thread t =
        new Thread(
            () -> {
              try (NDManager manager = NDManager.newBaseManager();
                  Trainer trainer = trainer(manager, 7)) {
                ai.djl.pytorch.jni.JniUtils.setGradMode(true);
                TrainState before = TrainState.capture(trainer);
                trainer.runStep();
                trainer.runStep();
                before.restoreInto(trainer);
                trainer.runStep();
                modeAfter.set(ai.djl.pytorch.jni.JniUtils.isGradMode());
              } catch (Throwable e) {
                failure.set(e);
              }
            });
    t.start();
    t.join();
    if (failure.get() != null) {
      throw new AssertionError("a step on a grad-mode-on thread failed", failure.get());
    }
    assertTrue(modeAfter.get(), "the thread's grad mode is restored");
  }

  @Test
  void sameSeedSameParametersBitForBit() {
    float[][] a = run(7, 15);
    float[][] b = run(7, 15);
    assertArrayEquals(a[0], b[0]);
    assertArrayEquals(a[1], b[1]);
    float[][] c = run(8, 15);
    assertTrue(!java.util.Arrays.equals(a[0], c[0]), "another seed trains differently");
  }

  @Test
  void resumeFromAStateContinuesBitForBit() {
    float[][] uninterrupted = run(11, 20);
    TrainState half;
    try (NDManager manager = NDManager.newBaseManager();
        Trainer first = trainer(manager, 11)) {
      for (int i = 0; i < 9; i++) {
        first.runStep();
      }
      half = TrainState.capture(first);
    }
    try (NDManager manager = NDManager.newBaseManager();
        Trainer second = trainer(manager, 11)) {
      half.restoreInto(second);
      assertEquals(9, second.step());
      while (second.step() < 20) {
        second.runStep();
      }
      TrainState end = TrainState.capture(second);
      assertArrayEquals(uninterrupted[0], concat(end.model()));
      assertArrayEquals(uninterrupted[1], concat(end.ema()));
    }
  }

  private static float[][] run(long seed, int steps) {
    try (NDManager manager = NDManager.newBaseManager();
        Trainer trainer = trainer(manager, seed)) {
      for (int i = 0; i < steps; i++) {
        trainer.runStep();
      }
      TrainState s = TrainState.capture(trainer);
      return new float[][] {concat(s.model()), concat(s.ema())};
    }
  }

  static float[] concat(java.util.List<io.scoreflow.ckpt.HostTensor> tensors) {
    int n = tensors.stream().mapToInt(t -> t.data().length).sum();
    float[] all = new float[n];
    int off = 0;
    for (var t : tensors) {
      System.arraycopy(t.data(), 0, all, off, t.data().length);
      off += t.data().length;
    }
    return all;
  }
}
