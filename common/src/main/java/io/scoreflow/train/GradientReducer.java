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

  /**
   * Every replica has just finished a step after which a checkpoint is taken (rank 0 writes it; the
   * others reach the same point): state the reducer carries from step to step outside the
   * checkpoint, such as an error-feedback residual, is dropped here, so that a run resumed from
   * this checkpoint continues bit for bit as the uninterrupted one.
   */
  default void checkpointed() {}
}
