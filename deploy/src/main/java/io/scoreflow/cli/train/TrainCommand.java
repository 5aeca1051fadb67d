package io.scoreflow.cli.train;

import com.typesafe.config.Config;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.scoreflow.ckpt.CompletedCheckpoint;
import io.scoreflow.cli.cluster.ClusterJob;
import io.scoreflow.cli.output.Progress;
import io.scoreflow.config.Configs;
import io.scoreflow.config.Devices;
import io.scoreflow.eval.TrainingEvaluation;
import io.scoreflow.metrics.EvaluationMetrics;
import io.scoreflow.metrics.MetricsEndpoint;
import io.scoreflow.metrics.TrainingMetrics;
import io.scoreflow.run.ElasticBatch;
import io.scoreflow.run.TrainSettings;
import io.scoreflow.train.StepResult;
import io.scoreflow.train.TrainJob;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.LongConsumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code scoreflow train CONFIG}: a training run in one process, or with {@code --workers N} a
 * data-parallel run on this machine (a coordinator here and N worker processes).
 */
@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    description = {
      "Trains a score network by denoising score matching, with checkpoints in OUT/checkpoints,"
          + " the event log in OUT/events.jsonl and the resolved config in OUT/config.conf.",
      "CONFIG is a HOCON file or a preset: quick-cpu, cifar10-vp-linear, … (see --list-presets).",
      "With --workers N > 1: a local cluster (coordinator in this process, N worker processes on"
          + " loopback, logs in OUT/logs); each worker trains batch-size/N of every global batch,"
          + " rank 0 writes the checkpoints. Exit code 1 if the distributed job fails."
    })
public final class TrainCommand implements Callable<Integer> {

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", arity = "0..1", paramLabel = "CONFIG", description = "File or preset.")
  String config;

  @Option(names = "--steps", paramLabel = "N", description = "Train until N steps are done.")
  Long steps;

  @Option(names = "--out", paramLabel = "DIR", description = "Run directory (default runs/JOB).")
  Path out;

  @Option(
      names = "--resume",
      description =
          "Continue from the newest checkpoint in OUT that verifies completely (older ones are"
              + " used, with a warning, when newer ones are damaged). Refused when OUT has"
              + " checkpoints and none verifies; without any checkpoint, starts at step 0.")
  boolean resume;

  @Option(
      names = "--restart-from-scratch",
      description =
          "When OUT has checkpoints and none of them verifies: move them into"
              + " OUT/checkpoints/corrupt-<time>/ (never deleted) and start again at step 0. A"
              + " checkpoint that verifies is never set aside.")
  boolean restartFromScratch;

  @Option(
      names = "--set",
      paramLabel = "KEY=VALUE",
      description = "Override a config key, e.g. --set scoreflow.train.batch-size=32.")
  List<String> overrides = new ArrayList<>();

  @Option(names = "--device", paramLabel = "DEV", description = "cpu, gpu or auto (default).")
  String device = "auto";

  @Option(
      names = "--metrics-port",
      paramLabel = "PORT",
      description =
          "Serve Prometheus metrics on http://HOST:PORT/metrics (0: a free port); with --workers N"
              + " the coordinator serves PORT and worker K serves PORT+1+K.")
  Integer metricsPort;

  @picocli.CommandLine.Mixin io.scoreflow.cli.cluster.TlsOptions tls;

  @Option(names = "--list-presets", description = "List the presets and exit.")
  boolean listPresets;

  @Option(
      names = "--workers",
      paramLabel = "N",
      description = "Data-parallel worker processes on this machine (default 1: this process).")
  int workers = 1;

  @Option(
      names = "--min-workers",
      paramLabel = "M",
      description =
          "With --workers: go on with a ring of at least M when workers are lost and not back"
              + " within scoreflow.cluster.regroup-timeout (default scoreflow.cluster.min-workers;"
              + " 0 = all N).")
  int minWorkers;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if (listPresets) {
      Configs.presets().forEach(out::println);
      return 0;
    }
    if (config == null) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "Missing required parameter: 'CONFIG'");
    }
    Config resolved = Configs.load(config, overrides);
    // Read once here, so a bad value of scoreflow.train is one line before anything starts.
    TrainSettings train = TrainSettings.of(resolved);
    long until = steps != null ? steps : train.steps();
    Path dir =
        this.out != null ? this.out : Path.of("runs", resolved.getString("scoreflow.job.name"));
    PrintWriter err = spec.commandLine().getErr();
    io.scoreflow.InvalidInputException.require(
        workers >= 1, "--workers must be >= 1, got %s", workers);
    if (workers > 1) {
      return ClusterJob.run(
          new ClusterJob.Plan(
              resolved,
              dir,
              until,
              workers,
              minWorkers,
              resume,
              restartFromScratch,
              "127.0.0.1",
              0,
              true,
              device,
              metricsPort,
              spec.root().userObject().getClass().getName(),
              tls.local(resolved.getString("scoreflow.job.name"), workers)),
          out,
          err);
    }
    PrometheusRegistry registry = new PrometheusRegistry();
    TrainingMetrics metrics =
        new TrainingMetrics(
            registry, resolved.getString("scoreflow.job.name"), 0, System::currentTimeMillis);
    try (MetricsEndpoint endpoint =
            metricsPort == null ? null : MetricsEndpoint.start(registry, "127.0.0.1", metricsPort);
        TrainJob job =
            TrainJob.builder()
                .config(resolved)
                .directory(dir)
                .resume(resume)
                .restartFromScratch(restartFromScratch)
                .device(Devices.parse(device))
                // A ring of one: a checkpoint of a scale run's other batch is continued as before.
                .elasticBatch(ElasticBatch.of(resolved))
                .open()) {
      if (endpoint != null) {
        err.println("metrics: http://localhost:" + endpoint.port() + "/metrics");
      }
      job.startWarnings().forEach(w -> err.println("scoreflow: warning: " + w));
      job.run(
          until, new Reporter(err, dir, metrics, evaluation(resolved, job, dir, registry, err)));
    }
    out.println("run " + dir + ": " + until + " steps done");
    return 0;
  }

  /**
   * The in-training evaluation of {@code scoreflow.eval}: every {@code every} steps, W2 (synthetic
   * data) or the fallback Fréchet distance (images) of EMA samples, exported as metrics.
   */
  private static LongConsumer evaluation(
      Config config, TrainJob job, Path dir, PrometheusRegistry registry, PrintWriter err) {
    TrainingEvaluation evaluation =
        TrainingEvaluation.of(config, job.trainer(), job.trainer().stream().dataset(), dir);
    if (evaluation == null) {
      return step -> {};
    }
    int every = config.getInt("scoreflow.eval.every");
    EvaluationMetrics metrics =
        new EvaluationMetrics(registry, config.getString("scoreflow.job.name"));
    return step -> {
      if (step % every == 0) {
        TrainingEvaluation.Result r = evaluation.evaluate(job.trainer());
        metrics.onMeasured(step, r.kind(), r.value(), r.inceptionScore(), r.kid());
        err.printf(
            java.util.Locale.ROOT,
            "%neval step %d: %s = %.6g%s (%d EMA samples, %.1fs)%n",
            step,
            switch (r.kind()) {
              case W2 -> "w2";
              case FID -> "fid";
              case FALLBACK_FD ->
                  "fd_fallback (" + io.scoreflow.eval.PooledPixels.NAME + ", not FID)";
            },
            r.value(),
            Double.isNaN(r.kid())
                ? ""
                : String.format(java.util.Locale.ROOT, ", kid = %.6g", r.kid()),
            r.samples(),
            r.seconds());
        metrics.onSampled(r.samples(), r.seconds());
      }
    };
  }

  /** Progress on stderr: a live line with loss and throughput, and a line per checkpoint. */
  private static final class Reporter implements TrainJob.Listener {
    private final PrintWriter err;
    private final Path dir;
    private final TrainingMetrics metrics;
    private final LongConsumer evaluate;
    private Progress progress;
    private double lossAverage = Double.NaN;
    private double imagesPerSecond = Double.NaN;

    Reporter(PrintWriter err, Path dir, TrainingMetrics metrics, LongConsumer evaluate) {
      this.err = err;
      this.dir = dir;
      this.metrics = metrics;
      this.evaluate = evaluate;
    }

    @Override
    public void onStart(long fromStep, long toStep, boolean resumed) {
      err.printf(
          Locale.ROOT,
          "%s %s: steps %d..%d%n",
          resumed ? "resuming" : "starting",
          dir,
          fromStep,
          toStep);
      progress = new Progress(err, "train", toStep);
    }

    @Override
    public void onStep(StepResult r) {
      metrics.onStep(r);
      evaluate.accept(r.step() + 1);
      lossAverage = Double.isNaN(lossAverage) ? r.loss() : 0.95 * lossAverage + 0.05 * r.loss();
      double rate = r.samples() / (r.totalNanos() / 1e9);
      imagesPerSecond = Double.isNaN(imagesPerSecond) ? rate : 0.9 * imagesPerSecond + 0.1 * rate;
      progress.update(
          r.step() + 1,
          String.format(Locale.ROOT, "loss %.4f  %.0f samples/s", lossAverage, imagesPerSecond));
    }

    @Override
    public void onCheckpoint(CompletedCheckpoint checkpoint) {
      metrics.onCheckpoint(checkpoint.step());
      err.printf(
          Locale.ROOT, "%ncheckpoint step %d: %s%n", checkpoint.step(), checkpoint.directory());
    }
  }
}
