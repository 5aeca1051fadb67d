package io.scoreflow.cli.cluster;

import static io.scoreflow.InvalidInputException.require;

import com.typesafe.config.Config;
import io.scoreflow.ckpt.CheckpointSearch;
import io.scoreflow.ckpt.CheckpointStore;
import io.scoreflow.ckpt.CompletedCheckpoint;
import io.scoreflow.coordinator.JobEvent;
import io.scoreflow.coordinator.JobHost;
import io.scoreflow.proto.cluster.RingMember;
import io.scoreflow.run.RunDirectory;
import io.scoreflow.security.CertificateDirectory;
import io.scoreflow.security.JobCa;
import io.scoreflow.security.NodeIdentity;
import io.scoreflow.security.TransportSecurity;
import io.scoreflow.worker.exchange.ExchangeKind;
import io.scoreflow.worker.exchange.Wire;
import io.scoreflow.worker.exchange.star.StarExchange;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A distributed run driven from this process: the coordinator node in-process, the workers either
 * launched here ({@code train --workers N}) or joining from elsewhere ({@code coordinator}), and
 * the job followed to its end. Returns the exit code: 0 finished, 1 failed.
 */
public final class ClusterJob {

  /** Exit code of a job that started but failed (a worker died, replicas diverged, ...). */
  public static final int EXIT_FAILED = 1;

  private ClusterJob() {}

  /**
   * What to run and where; {@code mainClass} is the class whose {@code main} runs this command line
   * ({@code picocli}'s root command), which the workers launched here run too.
   */
  public record Plan(
      Config config,
      Path dir,
      long untilStep,
      int workers,
      int minWorkers,
      boolean resume,
      boolean restartFromScratch,
      String host,
      int port,
      boolean launchWorkers,
      String device,
      Integer metricsPort,
      String mainClass,
      Certificates certificates) {}

  /**
   * The job's certificates for this coordinator and the workers it launches: a directory as {@code
   * scoreflow certs init} makes it, or none at all ({@link #INSECURE}).
   *
   * @param dir the directory, null for {@code --insecure}
   */
  public record Certificates(Path dir) {

    public static final Certificates INSECURE = new Certificates(null);

    public static Certificates in(Path dir) {
      return new Certificates(dir.toAbsolutePath());
    }

    /**
     * Certificates for one local run: a CA that lives in memory only (its key is never written),
     * and a certificate for the coordinator and each of {@code workers} local workers ({@link
     * LocalWorkers#id}), in a private temporary directory deleted when this process exits. The
     * secure path costs the user nothing.
     */
    public static Certificates ephemeral(String job, int workers) throws IOException {
      Path dir =
          Files.createTempDirectory(
              "scoreflow-tls-",
              java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                  java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
      Runtime.getRuntime()
          .addShutdownHook(new Thread(() -> deleteTree(dir), "scoreflow-tls-cleanup"));
      JobCa ca = JobCa.create(job, Duration.ofDays(30));
      CertificateDirectory.writeCaCertificate(dir, ca.certificate());
      CertificateDirectory.write(dir, ca.issue(NodeIdentity.coordinator(), Duration.ofDays(30)));
      for (int k = 0; k < workers; k++) {
        CertificateDirectory.write(
            dir, ca.issue(NodeIdentity.worker(LocalWorkers.id(k)), Duration.ofDays(30)));
      }
      return new Certificates(dir);
    }

    public boolean insecure() {
      return dir == null;
    }

    /** The security of the node {@code self}, loaded from the directory (or plaintext). */
    public TransportSecurity load(NodeIdentity self, PrintWriter err) {
      if (insecure()) {
        err.println(
            "scoreflow: WARNING: --insecure: every channel is plaintext; any process that reaches"
                + " a port of this job can join it, read its checkpoints and inject gradients");
        return TransportSecurity.plaintext();
      }
      return TransportSecurity.mutualTls(CertificateDirectory.load(dir, self.name()));
    }

    /** What a worker launched by this coordinator is given to find its own certificate. */
    public List<String> workerArguments() {
      return insecure() ? List.of("--insecure") : List.of("--tls-dir", dir.toString());
    }

    private static void deleteTree(Path dir) {
      try (java.util.stream.Stream<Path> tree = Files.walk(dir)) {
        tree.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException e) {
        // Best effort: the directory is private to this user and holds no CA key.
      }
    }
  }

  /**
   * Restarts the local workers that died (the coordinator takes them back); names one that has no
   * restart left.
   */
  private static Optional<String> restartOrReport(LocalWorkers workers, PrintWriter err) {
    try {
      for (String line : workers.restartDead()) {
        err.printf(Locale.ROOT, "%n%s%n", line);
        err.flush();
      }
    } catch (IOException e) {
      return Optional.of("could not restart a worker: " + e.getMessage());
    }
    return workers.firstFailure();
  }

  public static int run(Plan plan, PrintWriter out, PrintWriter err)
      throws IOException, InterruptedException {
    return run(plan, out, err, e -> {});
  }

  /** As {@link #run(Plan, PrintWriter, PrintWriter)}, showing every job event to {@code tap}. */
  public static int run(Plan plan, PrintWriter out, PrintWriter err, Consumer<JobEvent> tap)
      throws IOException, InterruptedException {
    ExchangeKind exchange;
    try {
      exchange = ExchangeKind.of(plan.config());
    } catch (IllegalArgumentException e) {
      throw new io.scoreflow.InvalidInputException(e.getMessage());
    }
    // Checked here so that a wire no worker could run is bad input, not a failed job.
    Wire wire = Wire.of(plan.config());
    if (wire.format() != Wire.Format.FP32 && exchange != ExchangeKind.RING) {
      throw new io.scoreflow.InvalidInputException(StarExchange.STAR_SENDS_FP32);
    }
    RunDirectory run = new RunDirectory(plan.dir());
    // A coordinator serving machines elsewhere is restarted with the command that started it: it
    // continues the run in OUT (the workers check that the checkpoint trains the same thing).
    // train --workers N owns its workers and, like a single process, wants --resume. Either way
    // the rules of the run directory apply before anything is written: a run whose checkpoints
    // all fail verification is refused unless --restart-from-scratch.
    CheckpointSearch<CompletedCheckpoint> search =
        run.checkStart(
            run.reader().searchAtMost(Long.MAX_VALUE),
            plan.resume() || !plan.launchWorkers(),
            plan.restartFromScratch());
    long start = search.found().map(CompletedCheckpoint::step).orElse(0L);
    if (search instanceof CheckpointSearch.NoneVerifies<CompletedCheckpoint> failed) {
      // Under the root's lock, released before rank 0 of the first ring takes it.
      try (CheckpointStore store = CheckpointStore.open(run.checkpoints())) {
        err.println("scoreflow: warning: " + run.setAside(store, failed));
      }
    }
    RunDirectory.fallbackWarning(search).ifPresent(w -> err.println("scoreflow: warning: " + w));
    require(
        plan.untilStep() >= start,
        "--steps %s is before the step this run already reached (%s)",
        plan.untilStep(),
        start);
    err.printf(
        Locale.ROOT,
        "%s %s: steps %d..%d on %d workers (%s exchange%s)%n",
        start > 0 ? "resuming" : "starting",
        run.path(),
        start,
        plan.untilStep(),
        plan.workers(),
        exchange.configName(),
        wire.equals(Wire.FP32) ? "" : ", " + wire + " on the wire");
    LocalWorkers workers = null;
    try (JobHost host =
        JobHost.start(
            new JobHost.Options(
                plan.config(),
                run,
                plan.untilStep(),
                plan.workers(),
                plan.minWorkers(),
                plan.host(),
                plan.port(),
                plan.metricsPort(),
                plan.certificates().load(NodeIdentity.coordinator(), err)),
            err)) {
      List<Integer> metricsPorts =
          plan.launchWorkers()
              ? host.workerMetricsPorts(plan.workers(), plan.metricsPort())
              : List.of();
      if (host.metricsPort() >= 0) {
        StringBuilder where =
            new StringBuilder(
                "metrics: coordinator http://"
                    + plan.host()
                    + ":"
                    + host.metricsPort()
                    + "/metrics");
        for (int k = 0; k < metricsPorts.size(); k++) {
          where
              .append(", ")
              .append(LocalWorkers.id(k))
              .append(" http://")
              .append(plan.host())
              .append(':')
              .append(metricsPorts.get(k))
              .append("/metrics");
        }
        err.println(where);
      }
      if (plan.launchWorkers()) {
        workers =
            LocalWorkers.launch(
                host.address(),
                plan.workers(),
                run.path().resolve("logs"),
                plan.device(),
                exchange,
                metricsPorts,
                plan.config().getInt("scoreflow.cluster.max-restarts"),
                plan.mainClass(),
                plan.certificates().workerArguments());
      } else {
        err.printf(
            Locale.ROOT,
            "coordinator listening at %s; start %d workers with: scoreflow worker --join %s%n",
            host.address(),
            plan.workers(),
            host.address());
      }
      LocalWorkers launched = workers;
      // The ring that finished: smaller than --workers after an elastic change.
      java.util.concurrent.atomic.AtomicReference<List<String>> lastRing =
          new java.util.concurrent.atomic.AtomicReference<>(List.of());
      ClusterProgress.Outcome outcome =
          new ClusterProgress(err, plan.untilStep())
              .follow(
                  host,
                  launched == null ? Optional::empty : () -> restartOrReport(launched, err),
                  e -> {
                    if (e instanceof JobEvent.RingFormed formed) {
                      lastRing.set(formed.ring().stream().map(RingMember::workerId).toList());
                    }
                    host.record(e);
                    tap.accept(e);
                  });
      if (outcome.finished()) {
        // The last ring's workers leave once released; one dropped from it (frozen, say) never
        // will, and close() ends it.
        if (launched != null && !launched.awaitExit(lastRing.get(), Duration.ofSeconds(60))) {
          err.println("scoreflow: warning: workers still running after the job; stopping them");
        }
        out.printf(
            Locale.ROOT,
            "run %s: %d steps done on %d workers (generation %d)%n",
            run.path(),
            outcome.step(),
            lastRing.get().size(),
            outcome.generation());
        return 0;
      }
      if (launched != null) {
        launched.awaitExit(lastRing.get(), Duration.ofSeconds(10));
      }
      err.println();
      err.println("scoreflow: error: " + outcome.message());
      if (launched != null) {
        err.println("worker logs: " + run.path().resolve("logs"));
      }
      return EXIT_FAILED;
    } finally {
      if (workers != null) {
        workers.close();
      }
    }
  }
}
