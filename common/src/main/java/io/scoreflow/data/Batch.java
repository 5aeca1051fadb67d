package io.scoreflow.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.scoreflow.math.NativeArrays;
import java.nio.FloatBuffer;

/**
 * One worker's shard of one global batch. The arrays are handed over, not copied: {@code data} is
 * the caller's buffer when one was passed to {@link BatchStream#next(float[])}.
 *
 * @param cursor the stream's position before this batch (restoring it replays this batch)
 * @param indices dataset index of each sample, in batch order
 * @param flipped whether each sample was mirrored left–right
 * @param data the samples, N×C×H×W (or N×d) in C order; may be longer than {@code count × size}
 *     when it is a reused buffer
 * @param sampleShape the shape of one sample
 */
public record Batch(
    DataCursor cursor, int[] indices, boolean[] flipped, float[] data, SampleShape sampleShape) {

  /** Samples in this batch. */
  public int count() {
    return indices.length;
  }

  /** N×C×H×W for images, N×d for vectors. */
  public Shape shape() {
    return sampleShape.batchShape(count());
  }

  /** The batch as an NDArray of {@link #shape()} owned by {@code manager}. */
  public NDArray toNDArray(NDManager manager) {
    return toNDArray(manager, data, sampleShape, count());
  }

  /** The first {@code count} samples of {@code data} as an NDArray owned by {@code manager}. */
  public static NDArray toNDArray(
      NDManager manager, float[] data, SampleShape sampleShape, int count) {
    int length = count * sampleShape.size();
    if (data.length < length) {
      throw new IllegalArgumentException(
          count + " samples of " + sampleShape + " need " + length + " floats, got " + data.length);
    }
    return NativeArrays.copyOf(
        manager, FloatBuffer.wrap(data, 0, length), sampleShape.batchShape(count));
  }
}
