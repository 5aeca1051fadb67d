package io.scoreflow.cli.cluster;

import com.typesafe.config.ConfigFactory;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.scoreflow.metrics.MetricsEndpoint;
import io.scoreflow.run.HostPort;
import io.scoreflow.security.NodeIdentity;
import io.scoreflow.security.TransportSecurity;
import io.scoreflow.worker.WorkerExit;
import io.scoreflow.worker.WorkerMetrics;
import io.scoreflow.worker.WorkerProcess;
import io.scoreflow.worker.exchange.ExchangeKind;
import java.net.InetAddress;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code scoreflow worker --join HOST:PORT}: one worker node of a distributed run. */
@Command(
    name = "worker",
    mixinStandardHelpOptions = true,
    description = {
      "Joins the cluster of the coordinator at HOST:PORT, registers, trains its rank of the ring"
          + " when the job starts, and exits when the coordinator releases it.",
      "Ranks follow the order of worker ids: give ids that sort (worker-000, worker-001, ...).",
      "Exit code: 0 released after a finished job, 1 failed or released after a failure."
    })
public final class WorkerCommand implements Callable<Integer> {

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--join", required = true, paramLabel = "HOST:PORT", description = "Coordinator.")
  String join;

  @Option(names = "--id", paramLabel = "ID", description = "Worker id (default HOSTNAME-PID).")
  String id;

  @Option(
      names = "--host",
      paramLabel = "HOST",
      description = "Address peers reach this worker at (default 127.0.0.1).")
  String host = "127.0.0.1";

  @Option(names = "--port", paramLabel = "P", description = "Cluster port (default: any free).")
  int port;

  @Option(
      names = "--exchange-port",
      paramLabel = "P",
      description = "Gradient exchange port (default: any free).")
  int exchangePort;

  @Option(
      names = "--exchange",
      paramLabel = "KIND",
      description =
          "Gradient exchange: ring (gRPC ring all-reduce) or star (gather to rank 0 and"
              + " broadcast); default scoreflow.cluster.exchange (ring). It must be the job's.")
  String exchange;

  @Option(names = "--device", paramLabel = "DEV", description = "cpu, gpu or auto (default).")
  String device = "auto";

  @Option(
      names = "--metrics-port",
      paramLabel = "PORT",
      description = "Serve Prometheus metrics on http://HOST:PORT/metrics (0: a free port).")
  Integer metricsPort;

  @picocli.CommandLine.Mixin TlsOptions tls;

  @Override
  public Integer call() throws Exception {
    HostPort coordinator = HostPort.parse(join, "--join");
    ExchangeKind backend;
    try {
      backend =
          exchange == null
              ? ExchangeKind.of(ConfigFactory.load())
              : ExchangeKind.parse(exchange, "--exchange");
    } catch (IllegalArgumentException e) {
      throw new io.scoreflow.InvalidInputException(e.getMessage());
    }
    ClusterJob.Certificates certificates = tls.required("worker");
    if (!certificates.insecure() && id == null) {
      throw new io.scoreflow.InvalidInputException(
          "--id is needed with TLS: it names the worker's certificate (ID.crt in "
              + certificates.dir()
              + ")");
    }
    String workerId =
        id != null
            ? id
            : InetAddress.getLocalHost().getHostName() + "-" + ProcessHandle.current().pid();
    TransportSecurity security =
        certificates.load(NodeIdentity.worker(workerId), spec.commandLine().getErr());
    PrometheusRegistry registry = new PrometheusRegistry();
    WorkerMetrics metrics = new WorkerMetrics(registry);
    WorkerExit exit;
    try (MetricsEndpoint endpoint =
        metricsPort == null ? null : MetricsEndpoint.start(registry, host, metricsPort)) {
      if (endpoint != null) {
        spec.commandLine()
            .getErr()
            .println(
                "worker "
                    + workerId
                    + " metrics: http://"
                    + host
                    + ":"
                    + endpoint.port()
                    + "/metrics");
      }
      exit =
          WorkerProcess.run(
              new WorkerProcess.Options(
                  coordinator, workerId, host, port, exchangePort, device, backend, security),
              metrics);
    }
    (exit.code() == 0 ? spec.commandLine().getOut() : spec.commandLine().getErr())
        .println("worker " + workerId + ": " + exit.reason());
    return exit.code();
  }
}
