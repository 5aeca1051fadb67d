package io.scoreflow.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import io.scoreflow.model.ScoreNetwork;
import java.util.Arrays;
import java.util.Locale;

/**
 * Times forward and forward+backward passes of a network on random data, one sub-manager per step
 * as a trainer would do. For a benchmark command, not for tests.
 */
public final class ModelBenchmark {
  private ModelBenchmark() {}

  /**
   * Milliseconds per step.
   *
   * @param forwardMs median of an inference forward pass
   * @param trainStepMs median of a training forward + backward (squared-error loss)
   * @param trainStepMinMs fastest training step
   */
  public record Result(
      String name,
      long batch,
      int steps,
      double forwardMs,
      double trainStepMs,
      double trainStepMinMs) {
    public String toJson() {
      return String.format(
          Locale.ROOT,
          "{\"name\":\"%s\",\"batch\":%d,\"steps\":%d,\"forward_ms\":%.1f,"
              + "\"train_step_ms\":%.1f,\"train_step_min_ms\":%.1f}",
          name,
          batch,
          steps,
          forwardMs,
          trainStepMs,
          trainStepMinMs);
    }
  }

  /** Runs {@code warmup} untimed then {@code steps} timed iterations of each kind. */
  public static Result run(
      ScoreNetwork net, String name, long batch, int warmup, int steps, NDManager base) {
    Shape[] shapes = net.inputShapes(batch);
    double[] fwd = new double[steps];
    double[] train = new double[steps];
    for (int i = -warmup; i < steps; i++) {
      try (NDManager step = base.newSubManager()) {
        NDArray x = step.randomNormal(shapes[0]);
        NDArray cond = step.randomUniform(0.01f, 50f, shapes[1]);
        ParameterStore ps = new ParameterStore(step, false);
        long t0 = System.nanoTime();
        try (NDArray out = net.apply(ps, x, cond, false)) {
          out.toFloatArray(); // forces completion
        }
        long t1 = System.nanoTime();
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          NDArray out = net.apply(ps, x, cond, true);
          NDArray loss = out.sub(x).square().mean();
          gc.backward(loss);
        }
        long t2 = System.nanoTime();
        if (i >= 0) {
          fwd[i] = (t1 - t0) / 1e6;
          train[i] = (t2 - t1) / 1e6;
        }
      }
    }
    return new Result(
        name, batch, steps, median(fwd), median(train), Arrays.stream(train).min().orElse(0));
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length == 0 ? 0 : s[s.length / 2];
  }
}
