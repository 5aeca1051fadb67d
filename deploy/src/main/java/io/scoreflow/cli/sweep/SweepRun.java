package io.scoreflow.cli.sweep;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
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
import io.scoreflow.metrics.ClusterMetrics;
import io.scoreflow.metrics.MetricsEndpoint;
import io.scoreflow.metrics.SweepMetrics;
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
    PoolMetrics metrics = PoolMetrics.start(plan, err);
    try (metrics;
        CoordinatorNode node =
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
              metrics.workerPorts(),
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
          metrics.onEvent(e);
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
        metrics.onStatus(status, workers.alive());
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

  /**
   * What {@code --metrics-port P} serves: the sweep's own {@code /metrics} on P (its queue and
   * every job's ring, {@link SweepMetrics} and {@link ClusterMetrics}) and worker K's on P+1+K, the
   * layout of {@code train --workers}; free ports for 0; nothing without the flag.
   */
  private static final class PoolMetrics implements AutoCloseable {

    private final MetricsEndpoint endpoint;
    private final List<Integer> workerPorts;
    private final ClusterMetrics cluster;
    private final SweepMetrics sweep;

    private PoolMetrics(
        MetricsEndpoint endpoint,
        List<Integer> workerPorts,
        ClusterMetrics cluster,
        SweepMetrics sweep) {
      this.endpoint = endpoint;
      this.workerPorts = workerPorts;
      this.cluster = cluster;
      this.sweep = sweep;
    }

    static PoolMetrics start(Plan plan, PrintWriter err) throws IOException {
      if (plan.metricsPort() == null) {
        return new PoolMetrics(null, List.of(), null, null);
      }
      PrometheusRegistry registry = new PrometheusRegistry();
      ClusterMetrics cluster = new ClusterMetrics(registry);
      SweepMetrics sweep = new SweepMetrics(registry, plan.spec().name());
      MetricsEndpoint endpoint = MetricsEndpoint.start(registry, "127.0.0.1", plan.metricsPort());
      List<Integer> ports = new ArrayList<>();
      for (int k = 0; k < plan.workers(); k++) {
        if (plan.metricsPort() != 0) {
          ports.add(plan.metricsPort() + 1 + k);
        } else {
          try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            ports.add(s.getLocalPort());
          }
        }
      }
      StringBuilder where =
          new StringBuilder("metrics: sweep http://127.0.0.1:" + endpoint.port() + "/metrics");
      for (int k = 0; k < ports.size(); k++) {
        where.append(", ").append(LocalWorkers.id(k));
        where.append(" http://127.0.0.1:").append(ports.get(k)).append("/metrics");
      }
      err.println(where);
      return new PoolMetrics(endpoint, ports, cluster, sweep);
    }

    List<Integer> workerPorts() {
      return workerPorts;
    }

    void onEvent(JobEvent e) {
      if (cluster == null) {
        return;
      }
      if (e instanceof JobEvent.RingFormed r) {
        cluster.onMembership(e.job(), r.ring().size(), r.generation());
      } else if (e instanceof JobEvent.GenerationChanged g) {
        cluster.onGeneration(e.job(), g.generation());
      } else if (e instanceof JobEvent.JobFinished || e instanceof JobEvent.JobFailed) {
        cluster.onEnded(e.job());
      }
    }

    /** The queue's counts, from the jobs' statuses as the progress line shows them. */
    void onStatus(Map<String, String> status, int poolWorkers) {
      if (sweep == null) {
        return;
      }
      int queued = 0;
      int finished = 0;
      int failed = 0;
      for (String s : status.values()) {
        switch (s) {
          case "queued" -> queued++;
          case "finished" -> finished++;
          case "failed" -> failed++;
          default -> {}
        }
      }
      sweep.onJobs(queued, status.size() - queued - finished - failed, finished, failed);
      sweep.onWorkers(poolWorkers);
    }

    @Override
    public void close() {
      if (endpoint != null) {
        endpoint.close();
      }
    }
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
