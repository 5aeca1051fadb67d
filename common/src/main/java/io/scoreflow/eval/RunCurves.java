package io.scoreflow.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import io.scoreflow.InvalidInputException;
import io.scoreflow.ckpt.CheckpointReader;
import io.scoreflow.config.Devices;
import io.scoreflow.data.Npz;
import io.scoreflow.run.TrainSetup;
import io.scoreflow.sample.SampleJob;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * What a run's checkpoints measure: every committed checkpoint's EMA weights sampled the same way
 * and measured with the evaluator's metric ({@code w2}, {@code fd_fallback} or {@code fid}), and
 * the loss of rank 0's event log; {@code last} is the newest checkpoint's whole measurement (with
 * the Inception Score and KID under FID), null without checkpoints. {@code bench convergence} and
 * {@code sweep} draw and tabulate these curves.
 */
public record RunCurves(
    String metric,
    List<Long> evalSteps,
    List<Double> values,
    List<Long> lossSteps,
    List<Double> loss,
    SampleQuality.Measurement last) {

  /**
   * Measures {@code run}: {@code samples} samples per checkpoint, Euler-Maruyama with {@code
   * samplerSteps} steps, seed 0 (the same for every checkpoint, so the curves compare); {@code
   * name} labels progress. When {@code picture} is set, the newest checkpoint's samples are drawn
   * there: their image grid, or for vector data a {@link SamplesScatter}.
   */
  public static RunCurves measure(
      Path run, int samples, int samplerSteps, String name, Path picture, Consumer<String> progress)
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
    SampleQuality.Measurement last = null;
    List<Long> steps = reader.committedSteps();
    long newest = steps.isEmpty() ? -1 : steps.get(steps.size() - 1);
    for (long step : steps) {
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
        last = quality.measure(a.data(), a.shape()[0]);
        values.add(last.value());
        if (picture != null && step == newest) {
          draw(sampled, a, config, String.format(Locale.ROOT, "%s, step %d", name, step), picture);
        }
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
    return new RunCurves(metric, evalSteps, values, lossSteps, loss, last);
  }

  private static void draw(
      SampleJob.Result sampled, Npz.FloatArray a, Config config, String title, Path picture)
      throws IOException {
    if (sampled.png() != null) {
      io.scoreflow.files.AtomicFiles.write(
          picture, tmp -> Files.copy(sampled.png(), tmp, StandardCopyOption.REPLACE_EXISTING));
    } else {
      int dim = (int) (a.data().length / a.shape()[0]);
      SamplesScatter.write(a.data(), a.shape()[0], dim, config, title, picture);
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
