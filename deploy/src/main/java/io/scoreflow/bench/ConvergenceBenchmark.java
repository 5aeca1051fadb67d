package io.scoreflow.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import io.scoreflow.InvalidInputException;
import io.scoreflow.ckpt.CheckpointReader;
import io.scoreflow.config.Devices;
import io.scoreflow.data.Npz;
import io.scoreflow.eval.SampleQuality;
import io.scoreflow.run.TrainSetup;
import io.scoreflow.sample.SampleJob;
import io.scoreflow.train.TrainState;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
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
      Measured m = measure(run, samples, samplerSteps, mode.name(), progress);
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
   * What a run's checkpoints measure: every committed checkpoint's EMA weights sampled the same way
   * ({@code samples} samples, Euler-Maruyama with {@code samplerSteps} steps, seed 0) and measured
   * with the evaluator's metric, and the loss of rank 0's event log; {@code name} labels progress.
   */
  public record Measured(
      String metric,
      List<Long> evalSteps,
      List<Double> values,
      List<Long> lossSteps,
      List<Double> loss) {}

  public static Measured measure(
      Path run,
      int samples,
      int samplerSteps,
      String name,
      java.util.function.Consumer<String> progress)
      throws IOException {
    CheckpointReader reader = CheckpointReader.of(run.resolve("checkpoints"));
    Config config = SampleJob.runConfig(run);
    SampleQuality quality =
        SampleQuality.of(config, () -> TrainSetup.dataset(config), run.resolve("eval"));
    if (quality == null) {
      throw new InvalidInputException(
          "the config's data has no metric to measure (Gaussian data or images are needed)");
    }
    String metric = quality.kind().name().toLowerCase(Locale.ROOT);
    List<Long> evalSteps = new ArrayList<>();
    List<Double> values = new ArrayList<>();
    for (long step : reader.committedSteps()) {
      progress.accept(String.format(Locale.ROOT, "%s: measuring step %d", name, step));
      Path prefix = Files.createTempDirectory("scoreflow-convergence-").resolve("s");
      try {
        SampleJob.Result sampled =
            SampleJob.run(
                new SampleJob.Request(
                    run,
                    step,
                    "ema",
                    "euler-maruyama",
                    samplerSteps,
                    samples,
                    samples,
                    0,
                    prefix,
                    Devices.parse("cpu")),
                k -> {});
        Npz.FloatArray a = Npz.read(sampled.npz()).get("samples");
        evalSteps.add(step);
        values.add(quality.measure(a.data(), a.shape()[0]).value());
      } finally {
        try (var files = Files.list(prefix.getParent())) {
          for (Path p : files.toList()) {
            Files.deleteIfExists(p);
          }
        }
        Files.deleteIfExists(prefix.getParent());
      }
    }
    List<Long> lossSteps = new ArrayList<>();
    List<Double> loss = new ArrayList<>();
    readLoss(run.resolve("events-rank-0.jsonl"), lossSteps, loss);
    return new Measured(metric, evalSteps, values, lossSteps, loss);
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

  private static void readLoss(Path events, List<Long> steps, List<Double> loss)
      throws IOException {
    ObjectMapper json = new ObjectMapper();
    try (BufferedReader in = Files.newBufferedReader(events)) {
      for (String line; (line = in.readLine()) != null; ) {
        JsonNode e = json.readTree(line);
        if ("step".equals(e.path("event").asText())) {
          steps.add(e.get("step").asLong());
          loss.add(e.get("loss").asDouble());
        }
      }
    }
  }
}
