package io.scoreflow.cli.bench;

import com.typesafe.config.Config;
import io.scoreflow.InvalidInputException;
import io.scoreflow.cli.cluster.ClusterJob;
import io.scoreflow.cli.output.Json;
import io.scoreflow.config.Configs;
import io.scoreflow.coordinator.JobEvent;
import io.scoreflow.run.TrainSettings;
import io.scoreflow.worker.exchange.ExchangeKind;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code scoreflow bench scaling}: training throughput of real local clusters of 1, 2, 3... worker
 * processes on the same job, each against the first count measured in the same run.
 */
@Command(
    name = "scaling",
    mixinStandardHelpOptions = true,
    description = {
      "For each worker count, trains CONFIG (default the quick-cpu preset: the tiny DDPM++ on"
          + " Fashion-MNIST) on a real local cluster (a coordinator and N worker processes on"
          + " loopback, the configured exchange) in a temporary directory, and reports images/s"
          + " over the timed steps (wall clock between the coordinator's step reports, after the"
          + " warm-up steps). speedup is against the first count of the list, measured in the same"
          + " run. Progress on stderr.",
      "On one machine the workers share its cores: this measures the overhead of the cluster and"
          + " the exchange more than the speed-up that separate machines would give."
    })
public final class BenchScalingCommand implements Callable<Integer> {

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "CONFIG",
      description = "HOCON file or preset (default quick-cpu).")
  String config = "quick-cpu";

  @Option(
      names = "--workers",
      paramLabel = "N,N,...",
      description = "Worker counts, e.g. 1,2,3 (default).")
  String workers = "1,2,3";

  @Option(names = "--steps", paramLabel = "N", description = "Timed steps per count (default 15).")
  int steps = 15;

  @Option(
      names = "--warmup-steps",
      paramLabel = "N",
      description = "Untimed steps first (engine start, first allocations; default 5, >= 1).")
  int warmupSteps = 5;

  @Option(names = "--device", paramLabel = "DEV", description = "cpu, gpu or auto (default).")
  String device = "auto";

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a config key.")
  List<String> overrides = new ArrayList<>();

  @Option(names = "--json", description = "Print JSON.")
  boolean json;

  /** One worker count's measurement. */
  record Point(
      int workers,
      double imagesPerSecond,
      double secondsPerStep,
      double computeMs,
      double exchangeMs,
      double optimizerMs) {}

  @Override
  public Integer call() throws Exception {
    List<Integer> counts = parseCounts(workers);
    InvalidInputException.require(steps >= 1, "--steps must be >= 1, got %s", steps);
    InvalidInputException.require(
        warmupSteps >= 1, "--warmup-steps must be >= 1, got %s", warmupSteps);
    List<String> sets = new ArrayList<>(overrides);
    // No checkpoints during the timed steps (the last step still writes one).
    sets.add("scoreflow.train.checkpoint-every=" + (warmupSteps + steps + 1));
    Config resolved = Configs.load(config, sets);
    TrainSettings train = TrainSettings.of(resolved);
    long batch = train.batchSize();
    for (int n : counts) {
      train.shard(n);
    }
    ExchangeKind exchange;
    try {
      exchange = ExchangeKind.of(resolved);
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException(e.getMessage());
    }

    PrintWriter err = spec.commandLine().getErr();
    List<Point> points = new ArrayList<>();
    for (int n : counts) {
      err.printf(Locale.ROOT, "bench scaling: %d worker%s%n", n, n == 1 ? "" : "s");
      err.flush();
      points.add(measure(resolved, n, batch, err));
    }

    PrintWriter out = spec.commandLine().getOut();
    Point base = points.get(0);
    if (json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("config", config);
      m.put("arch", resolved.getString("scoreflow.model.arch"));
      if (resolved.hasPath("scoreflow.model.nf")) {
        m.put("nf", resolved.getInt("scoreflow.model.nf"));
      }
      m.put("batch", batch);
      m.put("exchange", exchange.configName());
      m.put("warmup_steps", warmupSteps);
      m.put("steps", steps);
      m.put("cores", Runtime.getRuntime().availableProcessors());
      m.put("baseline_workers", base.workers());
      List<Map<String, Object>> rows = new ArrayList<>();
      for (Point p : points) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("workers", p.workers());
        row.put("images_per_second", p.imagesPerSecond());
        row.put("seconds_per_step", p.secondsPerStep());
        row.put("compute_ms", p.computeMs());
        row.put("exchange_ms", p.exchangeMs());
        row.put("optimizer_ms", p.optimizerMs());
        row.put("speedup", p.imagesPerSecond() / base.imagesPerSecond());
        row.put(
            "efficiency",
            p.imagesPerSecond() / base.imagesPerSecond() * base.workers() / p.workers());
        rows.add(row);
      }
      m.put("results", rows);
      Json.print(out, m);
      return 0;
    }
    for (Point p : points) {
      out.printf(
          Locale.ROOT,
          "%d workers: %.1f images/s (%.3f s/step; compute %.1f, exchange %.1f, optimizer %.1f"
              + " ms), speedup %.2f over %d%n",
          p.workers(),
          p.imagesPerSecond(),
          p.secondsPerStep(),
          p.computeMs(),
          p.exchangeMs(),
          p.optimizerMs(),
          p.imagesPerSecond() / base.imagesPerSecond(),
          base.workers());
    }
    return 0;
  }

  /** Trains warm-up + timed steps on a fresh local cluster of {@code n} workers. */
  private Point measure(Config resolved, int n, long batch, PrintWriter err) throws Exception {
    Path dir = Files.createTempDirectory("scoreflow-scaling-" + n + "-");
    long until = warmupSteps + steps;
    // The step reports' arrival times: the first timed step starts when warm-up step w-1 ends.
    long[] arrived = new long[(int) until];
    List<JobEvent.StepProgress> timed = new ArrayList<>();
    try {
      int code =
          ClusterJob.run(
              new ClusterJob.Plan(
                  resolved,
                  dir.resolve("run"),
                  until,
                  n,
                  n,
                  false,
                  false,
                  "127.0.0.1",
                  0,
                  true,
                  device,
                  null,
                  spec.root().userObject().getClass().getName(),
                  ClusterJob.Certificates.ephemeral(resolved.getString("scoreflow.job.name"), n)),
              err,
              err,
              e -> {
                if (e instanceof JobEvent.StepProgress p && p.step() < until) {
                  arrived[(int) p.step()] = System.nanoTime();
                  if (p.step() >= warmupSteps) {
                    timed.add(p);
                  }
                }
              });
      if (code != 0) {
        throw new IllegalStateException(
            "the " + n + "-worker run failed (see above); logs in " + dir.resolve("run/logs"));
      }
    } finally {
      deleteTree(dir);
    }
    double seconds = (arrived[(int) until - 1] - arrived[warmupSteps - 1]) / 1e9;
    return new Point(
        n,
        steps * batch / seconds,
        seconds / steps,
        timed.stream().mapToDouble(JobEvent.StepProgress::computeMs).average().orElse(0),
        timed.stream().mapToDouble(JobEvent.StepProgress::exchangeMs).average().orElse(0),
        timed.stream().mapToDouble(JobEvent.StepProgress::optimizerMs).average().orElse(0));
  }

  /** {@code 1,2,3}: distinct positive counts in the order given. */
  static List<Integer> parseCounts(String text) {
    List<Integer> counts = new ArrayList<>();
    TreeSet<Integer> seen = new TreeSet<>();
    for (String part : text.split(",", -1)) {
      int n;
      try {
        n = Integer.parseInt(part.trim());
      } catch (NumberFormatException e) {
        throw new InvalidInputException(
            "--workers must be a list of worker counts like 1,2,3, got '" + text + "'");
      }
      InvalidInputException.require(
          n >= 1 && n <= 64, "--workers counts must be in [1, 64], got %s in '%s'", n, text);
      InvalidInputException.require(seen.add(n), "--workers lists %s twice in '%s'", n, text);
      counts.add(n);
    }
    return counts;
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
