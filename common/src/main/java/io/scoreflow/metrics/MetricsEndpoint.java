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

  /**
   * Serves {@code registry} on {@code host}:{@code port} (0: a free port): the address the node was
   * told to listen on, never every interface, so a loopback run is not reachable from outside.
   */
  public static MetricsEndpoint start(PrometheusRegistry registry, String host, int port) {
    try {
      return new MetricsEndpoint(
          HTTPServer.builder().hostname(host).port(port).registry(registry).buildAndStart());
    } catch (IOException e) {
      throw new InvalidInputException(
          "--metrics-port "
              + port
              + ": cannot serve /metrics on "
              + host
              + " ("
              + e.getMessage()
              + ")",
          e);
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
