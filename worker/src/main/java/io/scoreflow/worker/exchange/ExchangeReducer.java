package io.scoreflow.worker.exchange;

import io.scoreflow.train.GradientReducer;

/**
 * The gradient reducer of one generation of a ring: connected to its peers, fenced by (job,
 * generation), and closed when the generation ends. {@link #close()} may be called from another
 * thread to abort a step in flight: the blocked {@link #allReduceMean} then fails promptly.
 */
public interface ExchangeReducer extends GradientReducer, AutoCloseable {

  /** Releases the connections; idempotent, callable from any thread. */
  @Override
  void close();

  /** A world of one: nothing to exchange. */
  static ExchangeReducer local() {
    return new ExchangeReducer() {
      @Override
      public ai.djl.ndarray.NDArray allReduceMean(
          ai.djl.ndarray.NDArray flat, long step, ai.djl.ndarray.NDManager scope) {
        return flat;
      }

      @Override
      public void close() {}
    };
  }
}
