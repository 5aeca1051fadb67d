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

  /**
   * The {@code /metrics} ports of {@code n} local workers beside a node asked to serve on {@code
   * requested}: {@code requested+1+k} (the layout the shipped Prometheus config scrapes), or free
   * ports when {@code requested} is 0.
   */
  public static java.util.List<Integer> workerPorts(int requested, int n) throws IOException {
    java.util.List<Integer> ports = new java.util.ArrayList<>();
    for (int k = 0; k < n; k++) {
      if (requested != 0) {
        ports.add(requested + 1 + k);
      } else {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
          ports.add(s.getLocalPort());
        }
      }
    }
    return ports;
  }

  public int port() {
    return server.getPort();
  }

  @Override
  public void close() {
    server.close();
  }
}
