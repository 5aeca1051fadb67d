package io.scoreflow.worker.exchange;

/**
 * A worker's exchange server: listens from the worker's start (its port goes into the worker's
 * registration) to its end, and opens the reducer of each generation.
 */
public interface ExchangeServer extends ReducerFactory, AutoCloseable {

  /** The port peers connect to. */
  int port();

  /** Stops listening and closes every open reducer; idempotent. */
  @Override
  void close();
}
