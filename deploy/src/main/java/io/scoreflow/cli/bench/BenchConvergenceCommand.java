package io.scoreflow.cli.bench;

import com.typesafe.config.Config;
import io.scoreflow.InvalidInputException;
import io.scoreflow.bench.ConvergenceBenchmark;
import io.scoreflow.cli.cluster.ClusterJob;
import io.scoreflow.cli.output.Json;
import io.scoreflow.config.Configs;
import io.scoreflow.run.TrainSettings;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code scoreflow bench convergence}: loss and sample quality of each exchange mode, equal steps.
 */
@Command(
    name = "convergence",
    mixinStandardHelpOptions = true,
    description = {
      "Trains CONFIG (default: a small MLP on 8-dimensional Gaussian data, where the metric is the"
          + " W2 to the exact law) once per mode on a local cluster of --workers processes, from"
          + " the same seed, into OUT/<mode>; then samples every checkpoint's EMA weights the same"
          + " way and measures them with the evaluator's metric. Writes OUT/convergence.png (loss"
          + " and metric against step, one line per mode) and prints, per mode, the final metric"
          + " against fp32's and the bytes each rank sends per step (from the exchange schedule).",
      "Modes: fp32 (synchronous, the baseline), bf16, bf16-ef (bf16 with error feedback),"
          + " delayed, local:H, local:H-nesterov."
    })
public final class BenchConvergenceCommand implements Callable<Integer> {

  /** The default job: fast on 2 cores, with an exact answer to measure against. */
  static final String GAUSSIAN_MLP =
      """
      scoreflow {
        job.name = convergence
        sde.name = vp-linear
        model { arch = mlp, mlp { hidden = 64, layers = 3 } }
        data { source = gaussian, random-flip = false, gaussian { dim = 8, mean = 1.0, std = 0.5, size = 16384 } }
        train { batch-size = 64, ema-rate = 0.99, log-every = 10, keep-checkpoints = 1000, optim { lr = 2e-3, warmup = 20 } }
        cluster { form-timeout = 120s, step-timeout = 120s }
      }
      """;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "CONFIG",
      description = "HOCON file or preset (default: the Gaussian MLP above).")
  String config;

  @Option(names = "--workers", paramLabel = "N", description = "Worker processes (default 2).")
  int workers = 2;

  @Option(names = "--steps", paramLabel = "N", description = "Steps per mode (default 2000).")
  long steps = 2000;

  @Option(
      names = "--eval-every",
      paramLabel = "N",
      description = "Steps between measured checkpoints (default 250).")
  int evalEvery = 250;

  @Option(
      names = "--modes",
      paramLabel = "M,M,...",
      split = ",",
      description = "Modes (default fp32,bf16,bf16-ef,delayed,local:8,local:8-nesterov).")
  List<String> modes =
      new ArrayList<>(List.of("fp32", "bf16", "bf16-ef", "delayed", "local:8", "local:8-nesterov"));

  @Option(names = "--samples", paramLabel = "N", description = "Samples per measurement (2000).")
  int samples = 2000;

  @Option(
      names = "--sampler-steps",
      paramLabel = "K",
      description = "Euler-Maruyama steps per sample (default 100).")
  int samplerSteps = 100;

  @Option(names = "--out", paramLabel = "DIR", required = true, description = "Output directory.")
  Path out;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a config key.")
  List<String> overrides = new ArrayList<>();

  @Option(names = "--json", description = "Print JSON.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    InvalidInputException.require(workers >= 2, "--workers must be >= 2, got %s", workers);
    InvalidInputException.require(steps >= 1, "--steps must be >= 1, got %s", steps);
    InvalidInputException.require(
        evalEvery >= 1 && evalEvery <= steps,
        "--eval-every must be in [1, --steps], got %s",
        evalEvery);
    InvalidInputException.require(samples >= 2, "--samples must be >= 2, got %s", samples);
    InvalidInputException.require(
        samplerSteps >= 1, "--sampler-steps must be >= 1, got %s", samplerSteps);
    List<ConvergenceBenchmark.Mode> parsed = new ArrayList<>();
    for (String m : modes) {
      parsed.add(ConvergenceBenchmark.Mode.parse(m.strip()));
    }
    InvalidInputException.require(
        !Files.exists(out) || isEmptyDirectory(out),
        "--out %s already exists and is not empty: choose a new directory",
        out);
    Files.createDirectories(out);
    Path base = out.resolve("base.conf");
    if (config == null) {
      Files.writeString(base, GAUSSIAN_MLP);
    }
    String source = config == null ? base.toString() : config;
    List<String> sets = new ArrayList<>(overrides);
    sets.add("scoreflow.train.checkpoint-every=" + evalEvery);
    sets.add("scoreflow.train.keep-checkpoints=1000000");
    Config resolved = Configs.load(source, sets);
    TrainSettings.of(resolved).shard(workers);
    PrintWriter err = spec.commandLine().getErr();
    ConvergenceBenchmark.Result r =
        ConvergenceBenchmark.run(
            parsed,
            (mode, run) -> {
              List<String> all = new ArrayList<>(sets);
              mode.overrides().forEach((k, v) -> all.add(k + "=" + v));
              Config c = Configs.load(source, all);
              int code =
                  ClusterJob.run(
                      new ClusterJob.Plan(
                          c,
                          run,
                          steps,
                          workers,
                          workers,
                          false,
                          false,
                          "127.0.0.1",
                          0,
                          true,
                          "cpu",
                          null,
                          spec.root().userObject().getClass().getName(),
                          ClusterJob.Certificates.ephemeral(
                              c.getString("scoreflow.job.name"), workers)),
                      err,
                      err);
              if (code != 0) {
                throw new IllegalStateException(
                    "the "
                        + mode.name()
                        + " run failed (see above); logs in "
                        + run.resolve("logs"));
              }
            },
            out,
            steps,
            evalEvery,
            workers,
            samples,
            samplerSteps,
            line -> {
              err.println("bench convergence: " + line);
              err.flush();
            });
    Path png = out.resolve("convergence.png");
    ConvergenceBenchmark.chart(
        r,
        String.format(
            Locale.ROOT, "%d workers, %s", workers, config == null ? "Gaussian MLP" : config),
        png);
    ConvergenceBenchmark.Curve fp32 =
        r.curves().stream().filter(c -> c.mode().name().equals("fp32")).findFirst().orElse(null);
    PrintWriter o = spec.commandLine().getOut();
    if (json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("config", config == null ? "gaussian-mlp" : config);
      m.put("workers", workers);
      m.put("steps", steps);
      m.put("eval_every", evalEvery);
      m.put("metric", r.metric());
      m.put("parameters", r.parameters());
      m.put("png", png.toString());
      List<Map<String, Object>> rows = new ArrayList<>();
      for (ConvergenceBenchmark.Curve c : r.curves()) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("mode", c.mode().name());
        row.put("overrides", c.mode().overrides());
        row.put("eval_steps", c.evalSteps());
        row.put(r.metric(), c.metric());
        row.put("final_" + r.metric(), last(c.metric()));
        row.put(
            "final_" + r.metric() + "_over_fp32",
            fp32 == null ? null : last(c.metric()) / last(fp32.metric()));
        row.put("final_loss", meanOfLast(c.loss(), 20));
        row.put("bytes_per_step_per_rank", c.bytesPerStep());
        row.put("bytes_over_fp32", fp32 == null ? null : c.bytesPerStep() / fp32.bytesPerStep());
        row.put("wall_seconds", c.wallSeconds());
        rows.add(row);
      }
      m.put("modes", rows);
      Json.print(o, m);
      return 0;
    }
    for (ConvergenceBenchmark.Curve c : r.curves()) {
      o.printf(
          Locale.ROOT,
          "%-18s final %s %.4g%s, loss %.4f, %.3g MB/step/rank%s, %.0f s%n",
          c.mode().name(),
          r.metric(),
          last(c.metric()),
          fp32 == null
              ? ""
              : String.format(Locale.ROOT, " (%.2fx fp32)", last(c.metric()) / last(fp32.metric())),
          meanOfLast(c.loss(), 20),
          c.bytesPerStep() / (1 << 20),
          fp32 == null
              ? ""
              : String.format(Locale.ROOT, " (%.3gx fp32)", c.bytesPerStep() / fp32.bytesPerStep()),
          c.wallSeconds());
    }
    o.println("chart: " + png);
    return 0;
  }

  private static double last(List<Double> values) {
    return values.isEmpty() ? Double.NaN : values.get(values.size() - 1);
  }

  private static double meanOfLast(List<Double> values, int n) {
    return values.subList(Math.max(0, values.size() - n), values.size()).stream()
        .mapToDouble(Double::doubleValue)
        .average()
        .orElse(Double.NaN);
  }

  private static boolean isEmptyDirectory(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return false;
    }
    try (var s = Files.list(dir)) {
      return s.findAny().isEmpty();
    }
  }
}
