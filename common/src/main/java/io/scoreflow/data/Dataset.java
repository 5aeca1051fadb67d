package io.scoreflow.data;

/**
 * A fixed number of samples of one {@link SampleShape}, read by index. Images hold values in [0,
 * 1].
 *
 * <p>Reading writes into the caller's array so that a batch is assembled without one allocation per
 * sample, and so that no implementation needs a float copy of the whole dataset. Reads of different
 * indices must be safe from several threads (implementations are immutable after construction); a
 * reader of the same index always gets the same values.
 */
public interface Dataset {

  /** Where the samples come from, for logs and error messages: "CIFAR-10 train (/data/cifar)". */
  String description();

  SampleShape shape();

  /** Number of samples; indices run from 0 to {@code size() - 1}. */
  int size();

  /**
   * Writes sample {@code index} to {@code dest[offset .. offset + shape().size())}.
   *
   * @throws IndexOutOfBoundsException if {@code index} is not in {@code [0, size())} or the sample
   *     does not fit in {@code dest} at {@code offset}
   */
  void read(int index, float[] dest, int offset);

  /** Sample {@code index} in a new array; {@link #read} is the allocation-free way. */
  default float[] get(int index) {
    float[] sample = new float[shape().size()];
    read(index, sample, 0);
    return sample;
  }
}
