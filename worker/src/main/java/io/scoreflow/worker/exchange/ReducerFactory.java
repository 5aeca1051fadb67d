package io.scoreflow.worker.exchange;

import java.util.List;

/** Opens the gradient reducer of one generation of a ring. */
@FunctionalInterface
public interface ReducerFactory {

  /**
   * Connects this worker, {@code rank} of {@code ringOrder} (index = rank), to its peers for {@code
   * generation} of {@code job}; blocks until connected or the exchange's deadline passes. For a
   * ring of one, returns {@link ExchangeReducer#local()}.
   *
   * @throws ExchangeException when the peers cannot be reached or refuse (another generation)
   */
  ExchangeReducer open(String job, long generation, int rank, List<PeerAddress> ringOrder);
}
