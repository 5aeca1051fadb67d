package io.scoreflow.cli.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import io.scoreflow.InvalidInputException;
import io.scoreflow.bench.ConvergenceBenchmark;
import io.scoreflow.bench.NetworkLab;
import io.scoreflow.cli.output.Json;
import io.scoreflow.config.Configs;
import io.scoreflow.run.TrainSettings;
import io.scoreflow.worker.ChildJvm;
import java.io.BufferedReader;
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
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code scoreflow bench network}: each exchange mode across throttled links between hosts. */
@Command(
    name = "network",
    mixinStandardHelpOptions = true,
    description = {
      "Builds hosts on this machine (network namespaces, one per worker and one for the"
          + " coordinator, cabled to a bridge; needs root or CAP_NET_ADMIN and iproute2), throttles"
          + " every cable to --rate in both directions (tc tbf; with --delay, netem, which some"
          + " kernels lack), and trains CONFIG (default quick-cpu) once per mode across them with"
          + " the real coordinator and worker commands. Per mode: the median step time over the"
          + " timed steps (the coordinator's journal), the compute and optimizer time the ranks"
          + " report, the exchange wait they report, the exposed exchange (step time minus"
          + " compute and optimizer, in the same run), and the bytes each rank sends per step"
          + " (from the exchange schedule: over these steps, whose last carries local SGD's"
          + " checkpoint state, and in a long run).",
      "Modes as bench convergence: fp32, bf16, bf16-ef, delayed, local:H, local:H-nesterov."
    })
public final class BenchNetworkCommand implements Callable<Integer> {

  private static final int CLUSTER_PORT = 2552;
  private static final int EXCHANGE_PORT = 7070;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "CONFIG",
      description = "HOCON file or preset.")
  String config = "quick-cpu";

  @Option(names = "--workers", paramLabel = "N", description = "Worker hosts (default 2).")
  int workers = 2;

  @Option(names = "--rate", paramLabel = "R", description = "Link rate, tc syntax (default 1gbit).")
  String rate = "1gbit";

  @Option(names = "--delay", paramLabel = "D", description = "One-way delay, tc syntax (0.5ms).")
  String delay;

  @Option(
      names = "--modes",
      paramLabel = "M,M,...",
      split = ",",
      description = "Modes (default fp32,bf16,delayed,local:8).")
  List<String> modes = new ArrayList<>(List.of("fp32", "bf16", "delayed", "local:8"));

  @Option(names = "--steps", paramLabel = "N", description = "Timed steps per mode (default 12).")
  int steps = 12;

  @Option(
      names = "--warmup-steps",
      paramLabel = "N",
      description = "Untimed steps first (default 3, >= 1).")
  int warmupSteps = 3;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a config key.")
  List<String> overrides = new ArrayList<>();

  @Option(names = "--json", description = "Print JSON.")
  boolean json;

  /** One mode's measurement. */
  record Row(
      String mode,
      double stepMs,
      double computeMs,
      double optimizerMs,
      double exchangeWaitMs,
      double exposedExchangeMs,
      double bytesPerStep,
      double steadyBytesPerStep) {}

  @Override
  public Integer call() throws Exception {
    InvalidInputException.require(workers >= 2, "--workers must be >= 2, got %s", workers);
    InvalidInputException.require(steps >= 2, "--steps must be >= 2, got %s", steps);
    InvalidInputException.require(
        warmupSteps >= 1, "--warmup-steps must be >= 1, got %s", warmupSteps);
    InvalidInputException.require(
        rate.matches("[0-9.]+[kmg]?bit"), "--rate must be like 1gbit or 100mbit, got %s", rate);
    List<ConvergenceBenchmark.Mode> parsed = new ArrayList<>();
    for (String m : modes) {
      parsed.add(ConvergenceBenchmark.Mode.parse(m.strip()));
    }
    long until = warmupSteps + steps;
    List<String> sets = new ArrayList<>(overrides);
    // No checkpoint inside the timed steps (the last step still writes one).
    sets.add("scoreflow.train.checkpoint-every=" + (until + 1));
    Config resolved = Configs.load(config, sets);
    TrainSettings.of(resolved).shard(workers);
    PrintWriter err = spec.commandLine().getErr();
    Path work = Files.createTempDirectory("scoreflow-network-");
    List<String> names = new ArrayList<>(List.of("c"));
    List<Integer> addresses = new ArrayList<>(List.of(1));
    for (int k = 0; k < workers; k++) {
      names.add("w" + k);
      addresses.add(11 + k);
    }
    List<Row> rows = new ArrayList<>();
    String prefix = "sfb" + ProcessHandle.current().pid() + "-";
    NetworkLab lab;
    try {
      lab = NetworkLab.create(prefix, "10.214.9.", names, addresses);
    } catch (NetworkLab.Refused e) {
      throw new InvalidInputException("bench network: " + e.getMessage());
    }
    Thread cleanup = new Thread(lab::close);
    Runtime.getRuntime().addShutdownHook(cleanup);
    long parameters = -1;
    try {
      for (NetworkLab.Host h : lab.hosts()) {
        try {
          lab.limit(h, rate, delay);
        } catch (IOException e) {
          throw new InvalidInputException("bench network: " + e.getMessage());
        }
      }
      for (ConvergenceBenchmark.Mode mode : parsed) {
        err.printf(
            Locale.ROOT,
            "bench network: %s over %s%s links%n",
            mode.name(),
            rate,
            delay == null ? "" : " with " + delay + " delay");
        err.flush();
        Path run = work.resolve(mode.name().replace(':', '-'));
        runJob(lab, mode, sets, run, until, err);
        if (parameters < 0) {
          parameters = ConvergenceBenchmark.trainedParameters(run.resolve("checkpoints"), until);
        }
        rows.add(measure(mode, run, parameters));
      }
    } finally {
      lab.close();
      Runtime.getRuntime().removeShutdownHook(cleanup);
    }
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("config", config);
      m.put("workers", workers);
      m.put("rate", rate);
      m.put("delay", delay);
      m.put("warmup_steps", warmupSteps);
      m.put("steps", steps);
      m.put("parameters", parameters);
      List<Map<String, Object>> list = new ArrayList<>();
      Row base = rows.get(0);
      for (Row r : rows) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("mode", r.mode());
        row.put("step_ms", r.stepMs());
        row.put("compute_ms", r.computeMs());
        row.put("optimizer_ms", r.optimizerMs());
        row.put("exchange_wait_ms", r.exchangeWaitMs());
        row.put("exposed_exchange_ms", r.exposedExchangeMs());
        row.put("exposed_over_first", r.exposedExchangeMs() / base.exposedExchangeMs());
        row.put("bytes_per_step_per_rank", r.bytesPerStep());
        row.put("bytes_over_first", r.bytesPerStep() / base.bytesPerStep());
        row.put("steady_bytes_per_step_per_rank", r.steadyBytesPerStep());
        row.put("steady_bytes_over_first", r.steadyBytesPerStep() / base.steadyBytesPerStep());
        list.add(row);
      }
      m.put("modes", list);
      Json.print(out, m);
      return 0;
    }
    for (Row r : rows) {
      out.printf(
          Locale.ROOT,
          "%-16s step %.0f ms (compute %.0f, optimizer %.0f), exchange wait %.0f ms, exposed"
              + " exchange %.0f ms, %.3g MB/step/rank%n",
          r.mode(),
          r.stepMs(),
          r.computeMs(),
          r.optimizerMs(),
          r.exchangeWaitMs(),
          r.exposedExchangeMs(),
          r.bytesPerStep() / (1 << 20));
    }
    return 0;
  }

  /** The coordinator and the workers of one mode, each on its host, to the end of the job. */
  private void runJob(
      NetworkLab lab,
      ConvergenceBenchmark.Mode mode,
      List<String> sets,
      Path run,
      long until,
      PrintWriter err)
      throws Exception {
    NetworkLab.Host c = lab.hosts().get(0);
    String main = spec.root().userObject().getClass().getName();
    List<String> coordinator =
        new ArrayList<>(
            List.of(
                "coordinator",
                config,
                "--workers",
                "" + workers,
                "--host",
                c.address(),
                "--port",
                "" + CLUSTER_PORT,
                "--out",
                run.toString(),
                "--steps",
                "" + until,
                "--insecure"));
    List<String> all = new ArrayList<>(sets);
    mode.overrides().forEach((k, v) -> all.add(k + "=" + v));
    for (String s : all) {
      coordinator.add("--set");
      coordinator.add(s);
    }
    Files.createDirectories(run);
    Process coord =
        lab.start(
            c,
            ChildJvm.builder(List.of("-Xss4m"), main, coordinator).command(),
            run.resolveSibling(run.getFileName() + "-coordinator.log"));
    int threads = Math.max(1, Runtime.getRuntime().availableProcessors() / workers);
    for (int k = 0; k < workers; k++) {
      NetworkLab.Host h = lab.hosts().get(k + 1);
      List<String> worker =
          List.of(
              "worker",
              "--join",
              c.address() + ":" + CLUSTER_PORT,
              "--id",
              String.format(Locale.ROOT, "worker-%03d", k),
              "--host",
              h.address(),
              "--port",
              "" + CLUSTER_PORT,
              "--exchange-port",
              "" + EXCHANGE_PORT,
              "--device",
              "cpu",
              "--insecure");
      lab.start(
          h,
          ChildJvm.builder(
                  List.of("-Xss4m", "-Dai.djl.pytorch.num_threads=" + threads), main, worker)
              .command(),
          run.resolveSibling(run.getFileName() + "-worker-" + k + ".log"));
    }
    if (!coord.waitFor(30, TimeUnit.MINUTES) || coord.exitValue() != 0) {
      throw new IllegalStateException(
          "the "
              + mode.name()
              + " run failed; its log: "
              + run.resolveSibling(run.getFileName() + "-coordinator.log"));
    }
  }

  private Row measure(ConvergenceBenchmark.Mode mode, Path run, long parameters)
      throws IOException {
    ObjectMapper json = new ObjectMapper();
    List<double[]> timed = new ArrayList<>();
    double previous = Double.NaN;
    try (BufferedReader in = Files.newBufferedReader(run.resolve("events.jsonl"))) {
      for (String line; (line = in.readLine()) != null; ) {
        JsonNode e = json.readTree(line);
        if (!"step".equals(e.path("event").asText())) {
          continue;
        }
        double time = e.get("time").asDouble();
        if (e.get("step").asLong() >= warmupSteps && !Double.isNaN(previous)) {
          timed.add(
              new double[] {
                (time - previous) * 1e3,
                e.get("compute_ms").asDouble(),
                e.get("optimizer_ms").asDouble(),
                e.get("exchange_ms").asDouble()
              });
        }
        previous = time;
      }
    }
    double step = median(timed, 0);
    double compute = mean(timed, 1);
    double optimizer = mean(timed, 2);
    long until = warmupSteps + steps;
    // Steady: a long run's schedule without the state a checkpoint adds; 840 is a multiple of
    // every H up to 8.
    long cycle = 840;
    return new Row(
        mode.name(),
        step,
        compute,
        optimizer,
        mean(timed, 3),
        Math.max(0, step - compute - optimizer),
        // No checkpoint inside these steps (checkpoint-every is past them): only the last one.
        mode.bytesPerStep(until, Long.MAX_VALUE, true, parameters, workers),
        mode.bytesPerStep(cycle, Long.MAX_VALUE, false, parameters, workers));
  }

  private static double median(List<double[]> rows, int column) {
    double[] v = rows.stream().mapToDouble(r -> r[column]).sorted().toArray();
    return v.length == 0
        ? Double.NaN
        : v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }

  private static double mean(List<double[]> rows, int column) {
    return rows.stream().mapToDouble(r -> r[column]).average().orElse(Double.NaN);
  }
}
