package io.scoreflow.cli.sweep;

import static io.scoreflow.InvalidInputException.require;

import io.scoreflow.cli.cluster.TlsOptions;
import io.scoreflow.cli.output.Json;
import io.scoreflow.run.HostPort;
import io.scoreflow.security.NodeIdentity;
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
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code scoreflow sweep SPEC}: many training jobs over one pool of local workers. */
@Command(
    name = "sweep",
    mixinStandardHelpOptions = true,
    subcommands = {SweepCommand.Status.class, SweepCommand.Cancel.class},
    description = {
      "Train every job of a sweep spec (a base config and an override per job) on a pool of"
          + " worker processes, WORKERS-PER-JOB workers a job, the others queued; then measure"
          + " every job's checkpoints and write OUT/results.{md,csv,json,png}.",
      "Run the same command again to resume: finished jobs are not run again, the others continue"
          + " from their newest checkpoint. SPEC is a file or a preset: paper-table3 (the paper's"
          + " twelve CIFAR-10 runs), paper-table3-cpu (the same twelve on Gaussian data, minutes).",
      "With --coordinator HOST:PORT the jobs run on a pool that is already running there"
          + " ('scoreflow pool', its workers joined with 'scoreflow worker --join HOST:PORT');"
          + " OUT must then be on a file system the pool, its workers and this command share.",
      "Exit code 0 when every job finished, 1 when one failed or was cancelled, 2 for bad input."
    })
public final class SweepCommand implements Callable<Integer> {

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "SPEC",
      description = "Sweep spec file or preset.")
  String specFile;

  @Option(
      names = "--workers",
      paramLabel = "N",
      description = "Worker processes in the pool (default: WORKERS-PER-JOB).")
  Integer workers;

  @Option(
      names = "--workers-per-job",
      paramLabel = "K",
      description = "The ring of each job (default: the spec's sweep.workers-per-job).")
  Integer workersPerJob;

  @Option(names = "--steps", paramLabel = "N", description = "Steps per job (default: the spec's).")
  Long steps;

  @Option(
      names = "--out",
      paramLabel = "DIR",
      description = "The sweep's directory: a run directory per job (default runs/<sweep name>).")
  Path out;

  @Option(
      names = "--set",
      paramLabel = "KEY=VALUE",
      description = "Override a config key of every job (repeatable).")
  List<String> overrides = new ArrayList<>();

  @Option(names = "--device", paramLabel = "DEV", description = "cpu, gpu or auto (default cpu).")
  String device = "cpu";

  @Option(
      names = "--samples",
      paramLabel = "N",
      description =
          "Samples per checkpoint for the results' metric (default scoreflow.sample.count).")
  Integer samples;

  @Option(names = "--json", description = "Print the results as JSON on stdout.")
  boolean json;

  @Option(
      names = "--metrics-port",
      paramLabel = "PORT",
      description =
          "Serve the sweep's metrics (its queue, every job's ring and measured sample quality)"
              + " on http://127.0.0.1:PORT/metrics, and worker K of its own pool the training"
              + " metrics of the job it trains (run=JOB) on PORT+1+K; 0: free ports.")
  Integer metricsPort;

  @Option(
      names = "--coordinator",
      paramLabel = "HOST:PORT",
      description =
          "Run the jobs on the pool running at HOST:PORT ('scoreflow pool') instead of local"
              + " workers; needs the pool's CA and the coordinator's certificate (--tls-dir) or"
              + " --insecure.")
  String coordinator;

  @Mixin TlsOptions tls;

  @Override
  public Integer call() throws Exception {
    PrintWriter err = spec.commandLine().getErr();
    if (specFile == null) {
      // Optional for picocli only, so that `sweep status` and `sweep cancel` need none.
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "Missing required parameter: 'SPEC'");
    }
    SweepSpec s = SweepSpec.load(specFile, overrides);
    if (workersPerJob != null || steps != null) {
      s =
          new SweepSpec(
              s.name(),
              steps != null ? steps : s.steps(),
              workersPerJob != null ? workersPerJob : s.workersPerJob(),
              s.jobs());
    }
    require(s.steps() >= 1, "--steps must be >= 1, got %s", s.steps());
    require(s.workersPerJob() >= 1, "--workers-per-job must be >= 1, got %s", s.workersPerJob());
    int pool = workers != null ? workers : s.workersPerJob();
    require(
        pool >= s.workersPerJob(),
        "--workers %s is fewer than the %s workers each job needs",
        pool,
        s.workersPerJob());
    String name = s.name();
    Path dir = out != null ? out : Path.of("runs", name);
    if (coordinator != null) {
      require(
          workers == null && device.equals("cpu"),
          "--workers and --device are for a sweep's own pool; the pool at --coordinator %s has"
              + " its workers (and their flags) already",
          coordinator);
    }
    HostPort remote = coordinator == null ? null : HostPort.parse(coordinator, "--coordinator");
    Files.createDirectories(dir);
    writeIndex(s, dir);
    var first = s.jobs().get(0).config().getConfig("scoreflow.sample");
    int n = samples != null ? samples : first.getInt("count");
    int failed;
    List<SweepResults.Row> rows;
    try (PoolMetrics metrics = PoolMetrics.start(name, "127.0.0.1", metricsPort)) {
      SweepResults results =
          new SweepResults(
              s,
              dir,
              n,
              first.getInt("steps"),
              line -> {
                err.println("sweep " + name + ": " + line);
                err.flush();
              },
              metrics.evaluation());
      failed =
          remote != null
              ? SweepRemote.run(
                  s,
                  dir,
                  remote,
                  tls.required("sweep --coordinator").load(NodeIdentity.coordinator(), err),
                  metrics,
                  results,
                  err)
              : SweepRun.run(
                  new SweepRun.Plan(
                      s,
                      dir,
                      pool,
                      device,
                      spec.root().userObject().getClass().getName(),
                      tls.local(s.name(), pool),
                      metricsPort),
                  metrics,
                  results,
                  err);
      rows = results.finish();
    }
    PrintWriter o = spec.commandLine().getOut();
    if (json) {
      Json.print(o, SweepResults.json(s, rows));
    } else {
      o.print(Files.readString(dir.resolve("results.md")));
      o.println(
          "results: "
              + dir.resolve("results.md")
              + ", .csv, .json, .png; each job's samples: "
              + dir.resolve("JOB")
              + "/"
              + SweepResults.SAMPLES_PNG);
    }
    o.flush();
    return failed == 0 ? 0 : 1;
  }

  /** {@code OUT/sweep.json}: the sweep's jobs, so that status and cancel know them. */
  private static void writeIndex(SweepSpec s, Path dir) throws java.io.IOException {
    Map<String, Object> index = new LinkedHashMap<>();
    index.put("sweep", s.name());
    index.put("steps", s.steps());
    index.put("workers_per_job", s.workersPerJob());
    index.put("jobs", s.jobs().stream().map(SweepSpec.Job::name).toList());
    SweepResults.writeAtomically(
        dir.resolve("sweep.json"),
        new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(index));
  }

  /** The sweep's index in {@code dir}, or one clear error. */
  static com.fasterxml.jackson.databind.JsonNode index(Path dir) throws java.io.IOException {
    Path file = dir.resolve("sweep.json");
    require(Files.isRegularFile(file), "%s is not a sweep's directory (no sweep.json)", dir);
    return new com.fasterxml.jackson.databind.ObjectMapper().readTree(file.toFile());
  }

  /** {@code scoreflow sweep status OUT}: where every job of a sweep stands. */
  @Command(
      name = "status",
      mixinStandardHelpOptions = true,
      description = "Where every job of the sweep in OUT stands, from the jobs' journals.")
  static final class Status implements Callable<Integer> {
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "OUT", description = "The sweep's directory.")
    Path dir;

    @Option(names = "--json", description = "As JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
      var index = index(dir);
      long until = index.get("steps").asLong();
      List<Map<String, Object>> jobs = new ArrayList<>();
      for (var name : index.get("jobs")) {
        SweepJournal j = SweepJournal.read(dir.resolve(name.asText()), until);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("job", name.asText());
        m.put("state", j.state().name().toLowerCase(Locale.ROOT));
        m.put("steps", j.steps());
        m.put("until", until);
        m.put("rings", j.rings());
        m.put("final_loss", Double.isNaN(j.finalLoss()) ? null : j.finalLoss());
        m.put("failure", j.failure());
        jobs.add(m);
      }
      PrintWriter o = spec.commandLine().getOut();
      if (json) {
        Json.print(o, Map.of("sweep", index.get("sweep").asText(), "jobs", jobs));
        return 0;
      }
      o.printf(Locale.ROOT, "sweep %s in %s%n", index.get("sweep").asText(), dir);
      for (Map<String, Object> m : jobs) {
        o.printf(
            Locale.ROOT,
            "  %-20s %-12s %d/%d steps%s%n",
            m.get("job"),
            m.get("state"),
            (Long) m.get("steps"),
            until,
            ((String) m.get("failure")).isEmpty() ? "" : "  (" + m.get("failure") + ")");
      }
      o.flush();
      return 0;
    }
  }

  /** {@code scoreflow sweep cancel OUT JOB...}: asks the running sweep to cancel jobs. */
  @Command(
      name = "cancel",
      mixinStandardHelpOptions = true,
      description = {
        "Ask the sweep running in OUT to cancel JOBs: a queued job never starts, a running one"
            + " stops (its checkpoints stay; running the sweep again resumes it).",
      })
  static final class Cancel implements Callable<Integer> {
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "OUT", description = "The sweep's directory.")
    Path dir;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "JOB", description = "Jobs to cancel.")
    List<String> jobs;

    @Override
    public Integer call() throws Exception {
      var index = index(dir);
      List<String> known = new ArrayList<>();
      index.get("jobs").forEach(j -> known.add(j.asText()));
      for (String job : jobs) {
        require(
            known.contains(job),
            "sweep %s has no job '%s' (jobs: %s)",
            index.get("sweep").asText(),
            job,
            String.join(", ", known));
      }
      for (String job : jobs) {
        Files.createDirectories(dir.resolve(job));
        Files.writeString(dir.resolve(job).resolve(SweepRun.CANCEL_FILE), "sweep cancel\n");
        spec.commandLine().getOut().println("asked the sweep in " + dir + " to cancel " + job);
      }
      return 0;
    }
  }
}
