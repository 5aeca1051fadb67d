package io.scoreflow.worker.exchange;

import java.util.List;

/**
 * A worker's exchange server: listens from the worker's start (its port goes into the worker's
 * registration) to its end, and opens the reducer of each generation. The ring ({@code
 * exchange.ring}) and the star ({@code exchange.star}) implement it; {@link ExchangeKind} names
 * them.
 */
public interface ExchangeServer extends AutoCloseable {

  /** The port peers connect to. */
  int port();

  /**
   * Connects this worker, {@code rank} of {@code ringOrder} (index = rank), to its peers for {@code
   * generation} of {@code job}; blocks until connected or the exchange's deadline passes. For a
   * ring of one, returns {@link ExchangeReducer#local()}. Every rank of the generation must open it
   * with the same {@code wire}.
   *
   * @throws ExchangeException when the peers cannot be reached or refuse (another generation)
   */
  ExchangeReducer open(
      String job, long generation, int rank, List<PeerAddress> ringOrder, Wire wire);

  /** As {@link #open(String, long, int, List, Wire)} with float32 on the wire. */
  default ExchangeReducer open(String job, long generation, int rank, List<PeerAddress> ringOrder) {
    return open(job, generation, rank, ringOrder, Wire.FP32);
  }

  /** Stops listening and closes every open reducer; idempotent. */
  @Override
  void close();
}
