package io.scoreflow.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.scoreflow.InvalidInputException;
import io.scoreflow.ckpt.CheckpointReader;
import io.scoreflow.eval.CurvesChart;
import io.scoreflow.eval.RunCurves;
import io.scoreflow.train.TrainState;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code scoreflow bench convergence}: what each way of exchanging gradients costs the model, at
 * equal steps. Every mode trains the same job from the same seed on a local cluster; afterwards
 * every checkpoint's EMA weights are sampled the same way (same sampler, steps, count and seed) and
 * measured with the evaluator's metric (W2 to the exact law on Gaussian data, the pooled-pixel
 * Fréchet distance on images), and the loss comes from rank 0's event log.
 */
public final class ConvergenceBenchmark {

  private ConvergenceBenchmark() {}

  /**
   * A way of exchanging gradients, by name: {@code fp32} (the synchronous baseline), {@code bf16},
   * {@code bf16-ef} (with error feedback), {@code delayed}, {@code local:H} and {@code
   * local:H-nesterov}; {@code overrides} are the config keys it sets.
   */
  public record Mode(String name, Map<String, String> overrides) {

    public static Mode parse(String name) {
      Map<String, String> o = new LinkedHashMap<>();
      switch (name) {
        case "fp32" -> {}
        case "bf16" -> o.put("scoreflow.cluster.wire", "bf16");
        case "bf16-ef" -> {
          o.put("scoreflow.cluster.wire", "bf16");
          o.put("scoreflow.cluster.error-feedback", "on");
        }
        case "delayed" -> o.put("scoreflow.cluster.sync", "delayed");
        default -> {
          String h = name.startsWith("local:") ? name.substring("local:".length()) : null;
          boolean nesterov = h != null && h.endsWith("-nesterov");
          if (nesterov) {
            h = h.substring(0, h.length() - "-nesterov".length());
          }
          if (h == null || !h.matches("[1-9][0-9]{0,5}")) {
            throw new InvalidInputException(
                "--modes: '"
                    + name
                    + "' is not one of fp32, bf16, bf16-ef, delayed, local:H, local:H-nesterov");
          }
          o.put("scoreflow.cluster.sync", "\"local:" + h + "\"");
          if (nesterov) {
            o.put("scoreflow.cluster.outer.optimizer", "nesterov");
          }
        }
      }
      return new Mode(name, Map.copyOf(o));
    }

    /**
     * The bytes each of {@code workers} ranks sends per step, on average over {@code steps} steps
     * of a model of {@code n} trained scalars, by this mode's exchange schedule: a ring rank sends
     * 2(W−1)/W of every exchanged vector. A checkpoint follows every {@code checkpointEvery}-th
     * step and, when {@code checkpointAtEnd}, the last one (local SGD then sends its whole state).
     */
    public double bytesPerStep(
        long steps, long checkpointEvery, boolean checkpointAtEnd, long n, int workers) {
      double elements = 0;
      for (long s = 0; s < steps; s++) {
        boolean checkpoint = (s + 1) % checkpointEvery == 0 || (checkpointAtEnd && s + 1 == steps);
        elements += exchanged(s, n, checkpoint);
      }
      return 2.0 * (workers - 1) / workers * elements * bytesPerElement() / steps;
    }

    /** Elements each exchange after step {@code step} sends, of {@code n} (0: none). */
    long exchanged(long step, long n, boolean checkpointFollows) {
      String sync = overrides.getOrDefault("scoreflow.cluster.sync", "every-step");
      if (!sync.startsWith("\"local:")) {
        return n;
      }
      int h = Integer.parseInt(sync.substring("\"local:".length(), sync.length() - 1));
      if (checkpointFollows) {
        return 4 * n;
      }
      return (step + 1) % h == 0 ? n : 0;
    }

    int bytesPerElement() {
      return "bf16".equals(overrides.get("scoreflow.cluster.wire")) ? 2 : 4;
    }
  }

  /** One mode's curves and costs. */
  public record Curve(
      Mode mode,
      List<Long> evalSteps,
      List<Double> metric,
      List<Long> lossSteps,
      List<Double> loss,
      double bytesPerStep,
      double wallSeconds) {}

  /** The metric's name ({@code w2}, {@code fd_fallback}, {@code fid}) and every mode's curves. */
  public record Result(String metric, long parameters, List<Curve> curves) {}

  /** Trains one mode into {@code run} (by the caller, who owns the cluster); then measures it. */
  public interface Trainer {
    void train(Mode mode, Path run) throws Exception;
  }

  /**
   * Trains every mode with {@code trainer} into {@code out/<mode>} and measures each checkpoint.
   *
   * @param checkpointEvery the config's checkpoint interval (for the exchange schedule)
   */
  public static Result run(
      List<Mode> modes,
      Trainer trainer,
      Path out,
      long steps,
      int checkpointEvery,
      int workers,
      int samples,
      int samplerSteps,
      java.util.function.Consumer<String> progress)
      throws Exception {
    List<Curve> curves = new ArrayList<>();
    String metric = null;
    long parameters = -1;
    for (Mode mode : modes) {
      Path run = out.resolve(mode.name().replace(':', '-'));
      progress.accept("training " + mode.name() + " into " + run);
      long started = System.nanoTime();
      trainer.train(mode, run);
      double wall = (System.nanoTime() - started) / 1e9;
      if (parameters < 0) {
        parameters = trainedParameters(run.resolve("checkpoints"), steps);
      }
      RunCurves m = RunCurves.measure(run, samples, samplerSteps, mode.name(), null, progress);
      metric = m.metric();
      curves.add(
          new Curve(
              mode,
              m.evalSteps(),
              m.values(),
              m.lossSteps(),
              m.loss(),
              mode.bytesPerStep(steps, checkpointEvery, true, parameters, workers),
              wall));
    }
    return new Result(metric, parameters, curves);
  }

  /**
   * The number of trained scalars, from the checkpoint of {@code step} in {@code checkpoints}: Adam
   * keeps two moments per trained scalar, so half the optimizer group's size.
   */
  public static long trainedParameters(Path checkpoints, long step) {
    CheckpointReader reader = CheckpointReader.of(checkpoints);
    try (NDManager manager = NDManager.newBaseManager()) {
      long total = 0;
      for (NDArray a : reader.load(step, manager).group(TrainState.OPTIMIZER)) {
        total += a.size();
      }
      return total / 2;
    }
  }

  /** Every mode's curves as one PNG, each labelled with the bytes it sends per step. */
  public static void chart(Result r, String title, Path png) throws IOException {
    List<CurvesChart.Line> lines = new java.util.ArrayList<>();
    for (Curve c : r.curves()) {
      lines.add(
          new CurvesChart.Line(
              String.format(
                  Locale.ROOT,
                  "%s (%.3g MB/step/rank)",
                  c.mode().name(),
                  c.bytesPerStep() / (1 << 20)),
              c.evalSteps(),
              c.metric(),
              c.lossSteps(),
              c.loss()));
    }
    CurvesChart.write(r.metric(), lines, title, png);
  }
}
