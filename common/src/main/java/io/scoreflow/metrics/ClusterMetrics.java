package io.scoreflow.metrics;

import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * A coordinator's view of its jobs' clusters: live workers and the membership generation, one
 * series per job ({@code run}). One instance per registry (a registry holds each family once): a
 * sweep's pool keeps the series of all its jobs in one.
 */
public final class ClusterMetrics {

  private final Gauge workers;
  private final Gauge generation;

  public ClusterMetrics(PrometheusRegistry registry) {
    workers =
        Gauge.builder()
            .name("scoreflow_cluster_workers")
            .help("Workers in the current ring")
            .labelNames("run")
            .register(registry);
    generation =
        Gauge.builder()
            .name("scoreflow_cluster_generation")
            .help("Membership generation (bumped on every membership change)")
            .labelNames("run")
            .register(registry);
  }

  /** A membership change of {@code run} without a new ring (yet): the generation moved on. */
  public void onGeneration(String run, long generationNumber) {
    generation.labelValues(run).set(generationNumber);
  }

  public void onMembership(String run, int workerCount, long generationNumber) {
    workers.labelValues(run).set(workerCount);
    generation.labelValues(run).set(generationNumber);
  }

  /** {@code run} has no ring any more (it finished, failed or was cancelled). */
  public void onEnded(String run) {
    workers.labelValues(run).set(0);
  }
}
