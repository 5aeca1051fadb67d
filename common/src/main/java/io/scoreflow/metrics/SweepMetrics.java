package io.scoreflow.metrics;

import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.List;

/**
 * A sweep's queue as its pool sees it: how many of its jobs are in each state, and how many workers
 * the pool has. The sweep's name is the {@code run} label, as a job's name is for a job.
 */
public final class SweepMetrics {

  /** The states a job of a sweep is counted in. */
  public static final List<String> STATES = List.of("queued", "running", "finished", "failed");

  private final String sweep;
  private final Gauge jobs;
  private final Gauge workers;

  public SweepMetrics(PrometheusRegistry registry, String sweep) {
    this.sweep = sweep;
    jobs =
        Gauge.builder()
            .name("scoreflow_sweep_jobs")
            .help("Jobs of this invocation of the sweep, by state")
            .labelNames("run", "state")
            .register(registry);
    workers =
        Gauge.builder()
            .name("scoreflow_sweep_workers")
            .help("Worker processes of the sweep's pool")
            .labelNames("run")
            .register(registry);
  }

  /** The counts of jobs in each of {@link #STATES}, in that order. */
  public void onJobs(int queued, int running, int finished, int failed) {
    int[] counts = {queued, running, finished, failed};
    for (int i = 0; i < counts.length; i++) {
      jobs.labelValues(sweep, STATES.get(i)).set(counts[i]);
    }
  }

  public void onWorkers(int count) {
    workers.labelValues(sweep).set(count);
  }
}
