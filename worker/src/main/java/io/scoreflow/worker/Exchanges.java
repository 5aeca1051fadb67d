package io.scoreflow.worker;

import io.scoreflow.security.TransportSecurity;
import io.scoreflow.worker.exchange.ExchangeKind;
import io.scoreflow.worker.exchange.ExchangeServer;
import io.scoreflow.worker.exchange.ring.RingExchange;
import io.scoreflow.worker.exchange.star.StarExchange;
import java.io.IOException;
import java.time.Duration;

/**
 * Starts the exchange a worker runs. It lives with the worker node, not in {@code exchange}: the
 * implementations depend on the exchange's interfaces, and the choice between them depends on the
 * implementations, so putting it beside the interfaces would make a package cycle.
 */
public final class Exchanges {

  private Exchanges() {}

  /**
   * Starts the server of worker {@code workerId} (its peers check who they talk to) on {@code
   * bindHost}:{@code port} ({@code 0}: any free port); {@code deadline} bounds connecting and every
   * step's exchange; {@code security} protects every connection.
   */
  public static ExchangeServer start(
      ExchangeKind kind,
      String workerId,
      String bindHost,
      int port,
      Duration deadline,
      TransportSecurity security)
      throws IOException {
    return switch (kind) {
      case RING -> RingExchange.start(workerId, bindHost, port, deadline, security);
      case STAR -> StarExchange.start(bindHost, port, deadline, security);
    };
  }
}
