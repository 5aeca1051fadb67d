package io.scoreflow.worker;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.scoreflow.metrics.TrainingMetrics;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A worker process's metrics: what its {@code /metrics} endpoint serves ({@link #registry()}). Each
 * replica the process runs (one per generation it is part of) exports its own {@link
 * TrainingMetrics}, labelled with its run and rank, in a registry of its own; the process registry
 * shows the newest replica's. A later generation may give the worker another rank, and metric
 * families can be registered only once per registry, hence one registry per replica.
 */
public final class WorkerMetrics {

  /** Metrics nobody serves (a worker started without {@code --metrics-port}). */
  public static WorkerMetrics unserved() {
    return new WorkerMetrics(new PrometheusRegistry());
  }

  private final PrometheusRegistry registry;
  private final AtomicReference<PrometheusRegistry> current =
      new AtomicReference<>(new PrometheusRegistry());

  /** Serves replicas' metrics through {@code registry}. */
  public WorkerMetrics(PrometheusRegistry registry) {
    this.registry = registry;
    registry.register((MultiCollector) this::collect);
  }

  public PrometheusRegistry registry() {
    return registry;
  }

  /** New metrics for replica {@code rank} of run {@code run}; they replace the previous ones. */
  TrainingMetrics replica(String run, int rank) {
    PrometheusRegistry own = new PrometheusRegistry();
    TrainingMetrics metrics = new TrainingMetrics(own, run, rank, System::currentTimeMillis);
    current.set(own);
    return metrics;
  }

  private MetricSnapshots collect() {
    return current.get().scrape();
  }
}
