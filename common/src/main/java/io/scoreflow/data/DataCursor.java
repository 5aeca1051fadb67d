package io.scoreflow.data;

import io.scoreflow.InvalidInputException;

/**
 * Where a {@link BatchStream} stands: the epoch, and the position in that epoch's permutation of
 * the first sample of the next global batch. It is the same on every rank (it counts global
 * batches, not shards), so one value in the checkpoint manifest restores every worker.
 *
 * <p>Counting samples rather than batches keeps the meaning if the batch size changes between a
 * checkpoint and its resumption: the new run continues with the next unseen sample of the epoch.
 *
 * @param epoch epochs completed so far (0 for the first)
 * @param position samples of this epoch's permutation already consumed
 */
public record DataCursor(long epoch, int position) {
  /** The start of training. */
  public static final DataCursor START = new DataCursor(0, 0);

  public DataCursor {
    InvalidInputException.require(epoch >= 0, "data cursor: epoch must be ≥ 0, got %d", epoch);
    InvalidInputException.require(
        position >= 0, "data cursor: position must be ≥ 0, got %d", position);
  }

  @Override
  public String toString() {
    return "epoch " + epoch + ", sample " + position;
  }
}
