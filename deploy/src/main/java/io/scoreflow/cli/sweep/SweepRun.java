package io.scoreflow.cli.sweep;

import io.scoreflow.ckpt.CheckpointSearch;
import io.scoreflow.ckpt.CompletedCheckpoint;
import io.scoreflow.cli.cluster.ClusterJob;
import io.scoreflow.cli.cluster.LocalWorkers;
import io.scoreflow.coordinator.CheckpointCatalog;
import io.scoreflow.coordinator.CoordinatorNode;
import io.scoreflow.coordinator.JobEvent;
import io.scoreflow.coordinator.JobJournal;
import io.scoreflow.coordinator.JobSpec;
import io.scoreflow.coordinator.PoolJournals;
import io.scoreflow.coordinator.WorkerPool;
import io.scoreflow.run.RunDirectory;
import io.scoreflow.security.NodeIdentity;
import io.scoreflow.worker.exchange.ExchangeKind;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Runs a sweep's unfinished jobs on a pool of local worker processes: one coordinator node with a
 * {@link WorkerPool}, {@code workers} local workers (restarted when they die, as {@code train
 * --workers} does), every job submitted in the spec's order with its priority, each job's events
 * recorded in its own journal. A job whose journal says it finished at the sweep's step count is
 * not run again; any other continues from its newest checkpoint.
 */
final class SweepRun {

  /** A cancel request for a running sweep: {@code OUT/JOB/CANCEL}, taken and removed by it. */
  static final String CANCEL_FILE = "CANCEL";

  private SweepRun() {}

  /** Where one sweep runs. */
  record Plan(
      SweepSpec spec,
      Path out,
      int workers,
      String device,
      String mainClass,
      ClusterJob.Certificates certificates,
      Integer metricsPort) {}

  /**
   * The jobs of {@code spec} in {@code out} that are not finished, each run directory checked by
   * the rules {@code train --resume} applies (nothing is written on refusal) and created; says on
   * {@code err} which ones finished earlier. Jobs in {@code running} (a pool elsewhere trains them
   * now) are not checked: their checkpoints change under the check.
   */
  static List<SweepSpec.Job> pending(
      SweepSpec spec, Path out, PrintWriter err, java.util.Set<String> running) throws IOException {
    List<SweepSpec.Job> pending = new ArrayList<>();
    for (SweepSpec.Job j : spec.jobs()) {
      Path dir = out.resolve(j.name());
      Files.deleteIfExists(dir.resolve(CANCEL_FILE));
      SweepJournal.State state = SweepJournal.read(dir, spec.steps()).state();
      if (state == SweepJournal.State.FINISHED) {
        err.printf(
            Locale.ROOT, "sweep %s: %s finished earlier; not run again%n", spec.name(), j.name());
      } else {
        pending.add(j);
      }
    }
    for (SweepSpec.Job j : pending) {
      if (running.contains(j.name())) {
        continue;
      }
      RunDirectory run = new RunDirectory(out.resolve(j.name()));
      CheckpointSearch<CompletedCheckpoint> search =
          run.checkStart(run.reader().searchAtMost(Long.MAX_VALUE), true, false);
      RunDirectory.fallbackWarning(search)
          .ifPresent(w -> err.println("scoreflow: warning: " + j.name() + ": " + w));
    }
    for (SweepSpec.Job j : pending) {
      Files.createDirectories(out.resolve(j.name()));
    }
    return pending;
  }

  /** The jobs {@code sweep cancel} asked to cancel since the last look (their files removed). */
  static List<String> cancelRequests(Path out, Iterable<String> jobs) throws IOException {
    List<String> asked = new ArrayList<>();
    for (String job : jobs) {
      if (Files.deleteIfExists(out.resolve(job).resolve(CANCEL_FILE))) {
        asked.add(job);
      }
    }
    return asked;
  }

  /** Runs the jobs that are not finished; returns how many of them failed. */
  static int run(Plan plan, PoolMetrics metrics, SweepResults results, PrintWriter err)
      throws IOException, InterruptedException {
    SweepSpec spec = plan.spec();
    List<SweepSpec.Job> pending = pending(spec, plan.out(), err, java.util.Set.of());
    if (pending.isEmpty()) {
      return 0;
    }
    List<JobSpec> specs = new ArrayList<>();
    for (SweepSpec.Job j : pending) {
      Path dir = plan.out().resolve(j.name());
      specs.add(
          JobSpec.of(j.config(), dir, spec.steps(), spec.workersPerJob(), 0)
              .startingAtGeneration(JobJournal.lastGeneration(dir) + 1));
    }
    err.printf(
        Locale.ROOT,
        "sweep %s: %d jobs to run (%d finished earlier) on %d workers, %d per job, into %s%n",
        spec.name(),
        pending.size(),
        spec.jobs().size() - pending.size(),
        plan.workers(),
        spec.workersPerJob(),
        plan.out());
    SweepProgress progress = new SweepProgress(spec, pending, err, results::jobOver);
    LocalWorkers workers = null;
    try (PoolJournals journals = new PoolJournals();
        CoordinatorNode node =
            CoordinatorNode.startPool(
                spec.name(),
                "127.0.0.1",
                0,
                plan.certificates().load(NodeIdentity.coordinator(), err))) {
      List<Integer> ports = workerMetricsPorts(plan, metrics, err);
      workers =
          LocalWorkers.launch(
              node.address(),
              plan.workers(),
              plan.out().resolve("logs"),
              plan.device(),
              ExchangeKind.RING,
              ports,
              pending.get(0).config().getInt("scoreflow.cluster.max-restarts"),
              plan.mainClass(),
              plan.certificates().workerArguments());
      for (int k = 0; k < pending.size(); k++) {
        Path dir = plan.out().resolve(pending.get(k).name());
        node.tell(
            new WorkerPool.Submit(
                specs.get(k),
                CheckpointCatalog.of(new RunDirectory(dir)),
                pending.get(k).priority(),
                java.util.Map.of()));
      }
      while (progress.open() > 0) {
        JobEvent e = node.poll(Duration.ofMillis(500));
        if (e != null && progress.status().containsKey(e.job())) {
          journals.record(e);
          show(e, progress, metrics);
        }
        for (String line : workers.restartDead()) {
          progress.say("%s", line);
        }
        for (String job : cancelRequests(plan.out(), progress.status().keySet())) {
          progress.say("cancelling %s", job);
          node.tell(new WorkerPool.Cancel(job, "sweep cancel"));
        }
        metrics.onStatus(progress.status(), workers.alive());
        progress.tick();
      }
      node.tell(new WorkerPool.Close("sweep " + spec.name() + " is over"));
      List<String> ids = new ArrayList<>();
      for (int k = 0; k < plan.workers(); k++) {
        ids.add(LocalWorkers.id(k));
      }
      if (!workers.awaitExit(ids, Duration.ofSeconds(60))) {
        err.println("scoreflow: warning: workers still running after the sweep; stopping them");
      }
    } finally {
      if (workers != null) {
        workers.close();
      }
    }
    return progress.failed();
  }

  /** A pool's event, shown and counted. */
  static void show(JobEvent e, SweepProgress progress, PoolMetrics metrics) {
    if (e instanceof JobEvent.RingFormed r) {
      progress.started(e.job(), r.ring().size(), r.startStep(), r.generation());
      metrics.started(e.job(), r.ring().size(), r.generation());
    } else if (e instanceof JobEvent.StepProgress p) {
      progress.stepped(e.job(), p.step(), p.meanLoss());
    } else if (e instanceof JobEvent.GenerationChanged g) {
      progress.regrouped(e.job(), g.why());
      metrics.regrouped(e.job(), g.generation());
    } else if (e instanceof JobEvent.JobFinished f) {
      progress.finished(e.job(), f.step());
      metrics.ended(e.job());
    } else if (e instanceof JobEvent.JobFailed x) {
      progress.failed(e.job(), x.reason().name(), x.message());
      metrics.ended(e.job());
    }
  }

  /**
   * The workers' {@code /metrics} ports: PORT+1+K after the sweep's PORT, free ones for 0, none
   * without the flag; the addresses are printed.
   */
  private static List<Integer> workerMetricsPorts(Plan plan, PoolMetrics metrics, PrintWriter err)
      throws IOException {
    if (plan.metricsPort() == null) {
      return List.of();
    }
    List<Integer> ports =
        io.scoreflow.metrics.MetricsEndpoint.workerPorts(plan.metricsPort(), plan.workers());
    StringBuilder where =
        new StringBuilder("metrics: sweep http://127.0.0.1:" + metrics.port() + "/metrics");
    for (int k = 0; k < ports.size(); k++) {
      where.append(", ").append(LocalWorkers.id(k));
      where.append(" http://127.0.0.1:").append(ports.get(k)).append("/metrics");
    }
    err.println(where);
    return ports;
  }
}
