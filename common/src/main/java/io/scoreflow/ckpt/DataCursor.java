package io.scoreflow.ckpt;

/**
 * Where the data stream stood when the checkpoint was taken, so a resumed run draws the same
 * batches it would have drawn without the interruption.
 *
 * @param epoch the epoch in progress (0-based)
 * @param position examples (or batches, as the data pipeline counts) already consumed in it
 */
public record DataCursor(long epoch, long position) {
  public DataCursor {
    if (epoch < 0 || position < 0) {
      throw new IllegalArgumentException(
          "data cursor must be non-negative, got epoch " + epoch + ", position " + position);
    }
  }
}
