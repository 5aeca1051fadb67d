package io.scoreflow.metrics;

import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/** The coordinator's view of the cluster: live workers and the membership generation. */
public final class ClusterMetrics {

  private final String run;
  private final Gauge workers;
  private final Gauge generation;

  public ClusterMetrics(PrometheusRegistry registry, String run) {
    this.run = run;
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

  /** A membership change without a new ring (yet): the generation moved on. */
  public void onGeneration(long generationNumber) {
    generation.labelValues(run).set(generationNumber);
  }

  public void onMembership(int workerCount, long generationNumber) {
    workers.labelValues(run).set(workerCount);
    generation.labelValues(run).set(generationNumber);
  }
}
