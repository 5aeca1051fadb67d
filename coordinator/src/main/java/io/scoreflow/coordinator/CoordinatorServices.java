package io.scoreflow.coordinator;

import com.typesafe.config.Config;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.scoreflow.coordinator.ckpt.CheckpointServer;
import io.scoreflow.coordinator.eval.Evaluator;
import io.scoreflow.eval.SampleQuality;
import io.scoreflow.metrics.ClusterMetrics;
import io.scoreflow.metrics.EvaluationMetrics;
import io.scoreflow.metrics.MetricsEndpoint;
import io.scoreflow.run.RunDirectory;
import io.scoreflow.run.TrainSetup;
import io.scoreflow.security.TransportSecurity;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.Behavior;

/**
 * What the coordinator's node serves besides the coordinator: {@code /metrics} (cluster size,
 * generation, sample quality, sampler throughput), the checkpoint service over the run's
 * checkpoints, and the evaluator actor when {@code scoreflow.eval.every > 0}.
 */
final class CoordinatorServices implements AutoCloseable {

  private final MetricsEndpoint endpoint;
  private final CheckpointServer checkpoints;
  private final ClusterMetrics cluster;
  private final Map<String, Behavior<?>> actors;

  private CoordinatorServices(
      MetricsEndpoint endpoint,
      CheckpointServer checkpoints,
      ClusterMetrics cluster,
      Map<String, Behavior<?>> actors) {
    this.endpoint = endpoint;
    this.checkpoints = checkpoints;
    this.cluster = cluster;
    this.actors = actors;
  }

  /**
   * Starts the services of a job on {@code host}: {@code /metrics} on {@code metricsPort} (null:
   * none; 0: a free port) and the checkpoint service on a free port.
   */
  static CoordinatorServices start(
      Config config,
      RunDirectory run,
      String host,
      Integer metricsPort,
      TransportSecurity security,
      PrintWriter err)
      throws IOException {
    String job = config.getString("scoreflow.job.name");
    PrometheusRegistry registry = new PrometheusRegistry();
    ClusterMetrics cluster = new ClusterMetrics(registry);
    EvaluationMetrics evaluation = new EvaluationMetrics(registry, job);
    CheckpointServer checkpoints =
        CheckpointServer.start(new InetSocketAddress(host, 0), security, job, run.checkpoints());
    MetricsEndpoint endpoint = null;
    try {
      endpoint = metricsPort == null ? null : MetricsEndpoint.start(registry, host, metricsPort);
      Map<String, Behavior<?>> actors = Map.of();
      Config eval = config.getConfig("scoreflow.eval");
      SampleQuality quality =
          eval.getInt("every") > 0
              ? SampleQuality.of(
                  config, () -> TrainSetup.dataset(config), run.path().resolve("eval"))
              : null;
      if (quality != null) {
        actors =
            Map.of(
                "evaluator",
                Evaluator.create(
                    new Evaluator.Settings(
                        job,
                        run.checkpoints(),
                        run.path().resolve("samples"),
                        host,
                        checkpoints.port(),
                        eval.getInt("every"),
                        eval.getDuration("poll"),
                        eval.getDuration("sample-timeout")),
                    quality,
                    evaluation));
      }
      err.printf(
          "checkpoint service: %s:%d (%s); evaluation: %s%n",
          host,
          checkpoints.port(),
          security.describe(),
          quality == null ? "off (scoreflow.eval.every = 0)" : "every new checkpoint");
      return new CoordinatorServices(endpoint, checkpoints, cluster, actors);
    } catch (RuntimeException e) {
      checkpoints.close();
      if (endpoint != null) {
        endpoint.close();
      }
      throw e;
    }
  }

  /** The coordinator node's metrics port, or -1 when it serves none. */
  int metricsPort() {
    return endpoint == null ? -1 : endpoint.port();
  }

  /**
   * The metrics ports of {@code n} local workers: {@code P+1+k} after the coordinator's {@code P}
   * when a port was given, free ports when it was 0, none (empty) without metrics.
   */
  List<Integer> workerMetricsPorts(int n, Integer requested) throws IOException {
    return endpoint == null ? List.of() : MetricsEndpoint.workerPorts(requested, n);
  }

  /** The actors to run next to the coordinator, by name. */
  Map<String, Behavior<?>> actors() {
    return actors;
  }

  /** Keeps the cluster metrics up to date with the coordinator's events. */
  void onEvent(JobEvent e) {
    if (e instanceof JobEvent.RingFormed r) {
      cluster.onMembership(e.job(), r.ring().size(), r.generation());
    } else if (e instanceof JobEvent.GenerationChanged g) {
      cluster.onGeneration(e.job(), g.generation());
    }
  }

  @Override
  public void close() {
    checkpoints.close();
    if (endpoint != null) {
      endpoint.close();
    }
  }
}
