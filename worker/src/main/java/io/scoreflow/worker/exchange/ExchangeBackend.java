package io.scoreflow.worker.exchange;

import java.io.IOException;
import java.time.Duration;

/** Chooses and starts the exchange implementation of a worker (the star fallback, the ring). */
@FunctionalInterface
public interface ExchangeBackend {

  /**
   * Starts the server of worker {@code workerId} (its peers check who they talk to) on {@code
   * bindHost}:{@code port} ({@code 0}: any free port); {@code deadline} bounds connecting and every
   * step's exchange.
   */
  ExchangeServer start(String workerId, String bindHost, int port, Duration deadline)
      throws IOException;

  /** The gather-to-rank-0-and-broadcast fallback. */
  ExchangeBackend STAR =
      (workerId, bindHost, port, deadline) -> StarExchange.start(bindHost, port, deadline);
}
