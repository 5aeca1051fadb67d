package io.scoreflow.cli.cluster;

import com.typesafe.config.Config;
import io.scoreflow.config.Configs;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code scoreflow coordinator CONFIG}: the coordinator node of a run across machines. */
@Command(
    name = "coordinator",
    mixinStandardHelpOptions = true,
    description = {
      "Runs the coordinator of a distributed training job: the cluster's seed node. Workers join"
          + " with 'scoreflow worker --join HOST:PORT'; when --workers of them registered, the"
          + " ring forms and training starts. OUT must be on a file system every worker shares"
          + " (rank 0 writes the checkpoints there, every rank its events-rank-K.jsonl).",
      "Exit code: 0 finished, 1 the job failed, 2 bad input."
    })
public final class CoordinatorCommand implements Callable<Integer> {

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "CONFIG", description = "File or preset.")
  String config;

  @Option(names = "--workers", required = true, paramLabel = "N", description = "Ring size.")
  int workers;

  @Option(
      names = "--min-workers",
      paramLabel = "M",
      description = "Form a smaller ring (>= M) if not all N registered by the formation deadline.")
  int minWorkers;

  @Option(names = "--port", paramLabel = "P", description = "Cluster port (default 2552).")
  int port = 2552;

  @Option(
      names = "--host",
      paramLabel = "HOST",
      description = "Address the workers reach this node at (default 127.0.0.1).")
  String host = "127.0.0.1";

  @Option(names = "--steps", paramLabel = "N", description = "Train until N steps are done.")
  Long steps;

  @Option(names = "--out", paramLabel = "DIR", description = "Run directory (default runs/JOB).")
  Path out;

  @Option(
      names = "--resume",
      description =
          "Continue from the newest checkpoint in OUT that verifies completely. Implied: a"
              + " coordinator always continues the run in OUT, so that starting it again with the"
              + " same command after a crash resumes the job (its workers rejoin by themselves)."
              + " Refused when OUT has checkpoints and none verifies (see"
              + " --restart-from-scratch).")
  boolean resume;

  @Option(
      names = "--restart-from-scratch",
      description =
          "When OUT has checkpoints and none of them verifies: move them into"
              + " OUT/checkpoints/corrupt-<time>/ (never deleted) and start again at step 0,"
              + " instead of refusing. A checkpoint that verifies is never set aside.")
  boolean restartFromScratch;

  @Option(
      names = "--metrics-port",
      paramLabel = "PORT",
      description = "Serve Prometheus metrics on http://HOST:PORT/metrics (0: a free port).")
  Integer metricsPort;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a config key.")
  List<String> overrides = new ArrayList<>();

  @picocli.CommandLine.Mixin TlsOptions tls;

  @Override
  public Integer call() throws Exception {
    ClusterJob.Certificates certificates = tls.required("coordinator");
    Config resolved = Configs.load(config, overrides);
    long until = steps != null ? steps : resolved.getLong("scoreflow.train.steps");
    Path dir = out != null ? out : Path.of("runs", resolved.getString("scoreflow.job.name"));
    return ClusterJob.run(
        new ClusterJob.Plan(
            resolved,
            dir,
            until,
            workers,
            minWorkers,
            resume,
            restartFromScratch,
            host,
            port,
            false,
            "auto",
            metricsPort,
            spec.root().userObject().getClass().getName(),
            certificates),
        spec.commandLine().getOut(),
        spec.commandLine().getErr());
  }
}
