package io.scoreflow.worker.exchange.ring;

/** What an all-reduce computes from the replicas' buffers. */
public enum ReduceOp {
  /** The element-wise sum. */
  SUM,
  /**
   * The element-wise mean: the sum, divided by the world size once, by the worker that owns the
   * segment at the end of reduce-scatter, so every replica receives the same rounded quotient.
   */
  MEAN
}
