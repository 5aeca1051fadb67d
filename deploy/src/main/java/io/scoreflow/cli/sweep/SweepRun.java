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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

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

  /** Runs the jobs that are not finished; returns how many of them failed. */
  static int run(Plan plan, PrintWriter err) throws IOException, InterruptedException {
    SweepSpec spec = plan.spec();
    List<SweepSpec.Job> pending = new ArrayList<>();
    for (SweepSpec.Job j : spec.jobs()) {
      Path dir = plan.out().resolve(j.name());
      Files.deleteIfExists(dir.resolve(CANCEL_FILE));
      SweepJournal.State state = SweepJournal.read(dir, spec.steps()).state();
      if (state == SweepJournal.State.FINISHED) {
        err.printf(
            Locale.ROOT, "sweep %s: %s finished earlier; not run again%n", spec.name(), j.name());
      } else {
        pending.add(j);
      }
    }
    if (pending.isEmpty()) {
      return 0;
    }
    Map<String, JobSpec> specs = new LinkedHashMap<>();
    for (SweepSpec.Job j : pending) {
      Path dir = plan.out().resolve(j.name());
      RunDirectory run = new RunDirectory(dir);
      // The run directory's rules, as train --resume applies them: nothing is written on refusal.
      CheckpointSearch<CompletedCheckpoint> search =
          run.checkStart(run.reader().searchAtMost(Long.MAX_VALUE), true, false);
      RunDirectory.fallbackWarning(search)
          .ifPresent(w -> err.println("scoreflow: warning: " + j.name() + ": " + w));
      specs.put(
          j.name(),
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
    Map<String, JobJournal> journals = new LinkedHashMap<>();
    Map<String, String> status = new LinkedHashMap<>();
    int failed = 0;
    LocalWorkers workers = null;
    try (CoordinatorNode node =
        CoordinatorNode.startPool(
            spec.name(),
            "127.0.0.1",
            0,
            plan.certificates().load(NodeIdentity.coordinator(), err))) {
      workers =
          LocalWorkers.launch(
              node.address(),
              plan.workers(),
              plan.out().resolve("logs"),
              plan.device(),
              ExchangeKind.RING,
              metricsPorts(plan, err),
              pending.get(0).config().getInt("scoreflow.cluster.max-restarts"),
              plan.mainClass(),
              plan.certificates().workerArguments());
      for (SweepSpec.Job j : pending) {
        Path dir = plan.out().resolve(j.name());
        Files.createDirectories(dir);
        journals.put(j.name(), new JobJournal(dir));
        status.put(j.name(), "queued");
        node.tell(
            new WorkerPool.Submit(
                specs.get(j.name()),
                CheckpointCatalog.of(new RunDirectory(dir)),
                j.priority(),
                Map.of()));
      }
      long lastShown = 0;
      int open = pending.size();
      while (open > 0) {
        JobEvent e = node.poll(Duration.ofMillis(500));
        if (e != null && journals.containsKey(e.job())) {
          journals.get(e.job()).record(e);
          if (e instanceof JobEvent.RingFormed r) {
            status.put(e.job(), "step " + r.startStep() + "/" + spec.steps());
            err.printf(
                Locale.ROOT,
                "sweep %s: %s: ring of %d from step %d (generation %d)%n",
                spec.name(),
                e.job(),
                r.ring().size(),
                r.startStep(),
                r.generation());
          } else if (e instanceof JobEvent.StepProgress p) {
            status.put(
                e.job(),
                String.format(
                    Locale.ROOT, "step %d/%d loss %.4f", p.step() + 1, spec.steps(), p.meanLoss()));
          } else if (e instanceof JobEvent.GenerationChanged g) {
            err.printf(Locale.ROOT, "sweep %s: %s: regroup: %s%n", spec.name(), e.job(), g.why());
          } else if (e instanceof JobEvent.JobFinished f) {
            open--;
            status.put(e.job(), "finished");
            err.printf(
                Locale.ROOT, "sweep %s: %s finished at step %d%n", spec.name(), e.job(), f.step());
          } else if (e instanceof JobEvent.JobFailed x) {
            open--;
            failed++;
            status.put(e.job(), "failed");
            err.printf(
                Locale.ROOT,
                "sweep %s: %s failed (%s): %s%n",
                spec.name(),
                e.job(),
                x.reason(),
                x.message());
          }
        }
        for (String line : workers.restartDead()) {
          err.printf(Locale.ROOT, "sweep %s: %s%n", spec.name(), line);
        }
        for (String job : status.keySet()) {
          Path cancel = plan.out().resolve(job).resolve(CANCEL_FILE);
          if (Files.deleteIfExists(cancel)) {
            err.printf(Locale.ROOT, "sweep %s: cancelling %s%n", spec.name(), job);
            node.tell(new WorkerPool.Cancel(job, "sweep cancel"));
          }
        }
        if (System.nanoTime() - lastShown > 5_000_000_000L) {
          lastShown = System.nanoTime();
          err.println(line(spec, status));
          err.flush();
        }
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
      journals.values().forEach(JobJournal::close);
      if (workers != null) {
        workers.close();
      }
    }
    return failed;
  }

  /** The workers' {@code /metrics} ports: PORT+1+K, free ones for 0, none without the flag. */
  private static List<Integer> metricsPorts(Plan plan, PrintWriter err) throws IOException {
    List<Integer> ports = new ArrayList<>();
    if (plan.metricsPort() == null) {
      return ports;
    }
    for (int k = 0; k < plan.workers(); k++) {
      if (plan.metricsPort() != 0) {
        ports.add(plan.metricsPort() + 1 + k);
      } else {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
          ports.add(s.getLocalPort());
        }
      }
    }
    StringBuilder where = new StringBuilder("metrics:");
    for (int k = 0; k < ports.size(); k++) {
      where.append(k == 0 ? " " : ", ").append(LocalWorkers.id(k));
      where.append(" http://127.0.0.1:").append(ports.get(k)).append("/metrics");
    }
    err.println(where);
    return ports;
  }

  /** One line for the whole sweep: how many jobs are done, running, queued. */
  private static String line(SweepSpec spec, Map<String, String> status) {
    int done = 0;
    int queued = 0;
    List<String> running = new ArrayList<>();
    for (Map.Entry<String, String> e : status.entrySet()) {
      switch (e.getValue()) {
        case "finished", "failed" -> done++;
        case "queued" -> queued++;
        default -> running.add(e.getKey() + " " + e.getValue());
      }
    }
    return String.format(
        Locale.ROOT,
        "sweep %s: %d/%d of this run's jobs over, %d queued; running: %s",
        spec.name(),
        done,
        status.size(),
        queued,
        running.isEmpty() ? "none" : String.join(", ", running));
  }
}
