package io.scoreflow.cli.sweep;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.scoreflow.metrics.ClusterMetrics;
import io.scoreflow.metrics.EvaluationMetrics;
import io.scoreflow.metrics.MetricsEndpoint;
import io.scoreflow.metrics.SweepMetrics;
import java.io.IOException;
import java.util.Map;

/**
 * A sweep's own {@code /metrics} ({@code --metrics-port P}, on P): its queue ({@link
 * SweepMetrics}), every job's ring ({@link ClusterMetrics}) and every job's measured sample quality
 * ({@link EvaluationMetrics}), one series per job. Inert without the flag.
 */
final class PoolMetrics implements AutoCloseable {

  private final MetricsEndpoint endpoint;
  private final ClusterMetrics cluster;
  private final SweepMetrics sweep;
  private final EvaluationMetrics evaluation;

  private PoolMetrics(
      MetricsEndpoint endpoint,
      ClusterMetrics cluster,
      SweepMetrics sweep,
      EvaluationMetrics evaluation) {
    this.endpoint = endpoint;
    this.cluster = cluster;
    this.sweep = sweep;
    this.evaluation = evaluation;
  }

  /** Serves on {@code host}:{@code port} (0: a free port; null: nothing). */
  static PoolMetrics start(String name, String host, Integer port) throws IOException {
    if (port == null) {
      return new PoolMetrics(null, null, null, null);
    }
    PrometheusRegistry registry = new PrometheusRegistry();
    ClusterMetrics cluster = new ClusterMetrics(registry);
    SweepMetrics sweep = new SweepMetrics(registry, name);
    EvaluationMetrics evaluation = new EvaluationMetrics(registry, name);
    return new PoolMetrics(MetricsEndpoint.start(registry, host, port), cluster, sweep, evaluation);
  }

  /**
   * The jobs' sample quality as the sweep measures them ({@code scoreflow_eval_*{run=JOB}}; use
   * {@link EvaluationMetrics#forRun}), or null without an endpoint.
   */
  EvaluationMetrics evaluation() {
    return evaluation;
  }

  /** The port it serves on, or -1. */
  int port() {
    return endpoint == null ? -1 : endpoint.port();
  }

  void started(String job, int ringSize, long generation) {
    if (cluster != null) {
      cluster.onMembership(job, ringSize, generation);
    }
  }

  void regrouped(String job, long generation) {
    if (cluster != null) {
      cluster.onGeneration(job, generation);
    }
  }

  void ended(String job) {
    if (cluster != null) {
      cluster.onEnded(job);
    }
  }

  /**
   * The queue's counts, from the jobs' statuses ({@link SweepProgress#status}); {@code poolWorkers}
   * negative when unknown.
   */
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
    if (poolWorkers >= 0) {
      sweep.onWorkers(poolWorkers);
    }
  }

  @Override
  public void close() {
    if (endpoint != null) {
      endpoint.close();
    }
  }
}
