package io.scoreflow.cli;

import com.typesafe.config.Config;
import io.scoreflow.ckpt.CompletedCheckpoint;
import io.scoreflow.config.Configs;
import io.scoreflow.config.Devices;
import io.scoreflow.train.StepResult;
import io.scoreflow.train.TrainJob;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
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
final class TrainCommand implements Callable<Integer> {

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", arity = "0..1", paramLabel = "CONFIG", description = "File or preset.")
  String config;

  @Option(names = "--steps", paramLabel = "N", description = "Train until N steps are done.")
  Long steps;

  @Option(names = "--out", paramLabel = "DIR", description = "Run directory (default runs/JOB).")
  Path out;

  @Option(names = "--resume", description = "Continue from the newest valid checkpoint in OUT.")
  boolean resume;

  @Option(
      names = "--set",
      paramLabel = "KEY=VALUE",
      description = "Override a config key, e.g. --set scoreflow.train.batch-size=32.")
  List<String> overrides = new ArrayList<>();

  @Option(names = "--device", paramLabel = "DEV", description = "cpu, gpu or auto (default).")
  String device = "auto";

  @Option(names = "--list-presets", description = "List the presets and exit.")
  boolean listPresets;

  @Option(
      names = "--workers",
      paramLabel = "N",
      description = "Data-parallel worker processes on this machine (default 1: this process).")
  int workers = 1;

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
    long until = steps != null ? steps : resolved.getLong("scoreflow.train.steps");
    Path dir =
        this.out != null ? this.out : Path.of("runs", resolved.getString("scoreflow.job.name"));
    PrintWriter err = spec.commandLine().getErr();
    io.scoreflow.InvalidInputException.require(
        workers >= 1, "--workers must be >= 1, got %s", workers);
    if (workers > 1) {
      return ClusterJob.run(
          new ClusterJob.Plan(
              resolved, dir, until, workers, workers, resume, "127.0.0.1", 0, true, device),
          out,
          err);
    }
    try (TrainJob job = TrainJob.open(resolved, dir, resume, Devices.parse(device))) {
      job.run(until, new Reporter(err, dir));
    }
    out.println("run " + dir + ": " + until + " steps done");
    return 0;
  }

  /** Progress on stderr: a live line with loss and throughput, and a line per checkpoint. */
  private static final class Reporter implements TrainJob.Listener {
    private final PrintWriter err;
    private final Path dir;
    private Progress progress;
    private double lossAverage = Double.NaN;
    private double imagesPerSecond = Double.NaN;

    Reporter(PrintWriter err, Path dir) {
      this.err = err;
      this.dir = dir;
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
      lossAverage = Double.isNaN(lossAverage) ? r.loss() : 0.95 * lossAverage + 0.05 * r.loss();
      double rate = r.samples() / (r.totalNanos() / 1e9);
      imagesPerSecond = Double.isNaN(imagesPerSecond) ? rate : 0.9 * imagesPerSecond + 0.1 * rate;
      progress.update(
          r.step() + 1,
          String.format(Locale.ROOT, "loss %.4f  %.0f samples/s", lossAverage, imagesPerSecond));
    }

    @Override
    public void onCheckpoint(CompletedCheckpoint checkpoint) {
      err.printf(
          Locale.ROOT, "%ncheckpoint step %d: %s%n", checkpoint.step(), checkpoint.directory());
    }
  }
}
