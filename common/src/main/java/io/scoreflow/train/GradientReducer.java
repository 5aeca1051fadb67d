package io.scoreflow.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * Averages the flat gradient over the data-parallel replicas of a step. One process alone is the
 * identity ({@link #LOCAL}); the cluster's implementation is the gRPC ring all-reduce.
 */
@FunctionalInterface
public interface GradientReducer {

  /** The single-process reducer: there is nothing to average with. */
  GradientReducer LOCAL = (flat, step, scope) -> flat;

  /**
   * Returns the mean over all replicas of {@code flat} (this replica's gradient of the mean loss of
   * its shard), owned by {@code scope}; may reuse {@code flat}.
   */
  NDArray allReduceMean(NDArray flat, long step, NDManager scope);
}
