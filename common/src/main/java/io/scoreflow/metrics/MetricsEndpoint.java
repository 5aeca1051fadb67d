package io.scoreflow.metrics;

import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.scoreflow.InvalidInputException;
import java.io.IOException;

/** A node's {@code /metrics} endpoint (Prometheus text format) over its own registry. */
public final class MetricsEndpoint implements AutoCloseable {

  private final HTTPServer server;

  private MetricsEndpoint(HTTPServer server) {
    this.server = server;
  }

  /** Serves {@code registry} on {@code port} (0: a free port) on all interfaces. */
  public static MetricsEndpoint start(PrometheusRegistry registry, int port) {
    try {
      return new MetricsEndpoint(
          HTTPServer.builder().port(port).registry(registry).buildAndStart());
    } catch (IOException e) {
      throw new InvalidInputException(
          "--metrics-port " + port + ": cannot serve /metrics (" + e.getMessage() + ")", e);
    }
  }

  public int port() {
    return server.getPort();
  }

  @Override
  public void close() {
    server.close();
  }
}
