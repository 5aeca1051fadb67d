package io.scoreflow.ckpt;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.Arrays;
import java.util.Objects;

/**
 * A named float32 tensor copied to the Java heap, detached from any engine, so that a checkpoint
 * can be written on another thread while training goes on with the original.
 *
 * <p>The arrays are taken over, not copied again (a network's parameters can be hundreds of
 * megabytes): do not modify them after handing them over.
 *
 * @param name the tensor's name inside its group, e.g. a PyTorch state_dict key {@code
 *     all_modules.0.weight}
 * @param shape the dimensions; empty for a scalar
 * @param data the elements in row-major order
 */
public record HostTensor(String name, long[] shape, float[] data) {
  public HostTensor {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(shape, "shape");
    Objects.requireNonNull(data, "data");
    if (name.isEmpty() || name.equals("__metadata__")) {
      throw new IllegalArgumentException("tensor name must be non-empty and not __metadata__");
    }
    long elements = 1;
    for (long dim : shape) {
      if (dim < 0) {
        throw new IllegalArgumentException(
            "tensor " + name + ": negative dimension in shape " + Arrays.toString(shape));
      }
      elements = Math.multiplyExact(elements, dim);
    }
    if (elements != data.length) {
      throw new IllegalArgumentException(
          "tensor "
              + name
              + ": shape "
              + Arrays.toString(shape)
              + " needs "
              + elements
              + " elements, got "
              + data.length);
    }
  }

  /**
   * Copies {@code array} to the heap (from any device). This copy is the only part of a checkpoint
   * the training thread waits for.
   */
  public static HostTensor copyOf(String name, NDArray array) {
    if (array.getDataType() != DataType.FLOAT32) {
      throw new IllegalArgumentException(
          "tensor " + name + " must be float32 to be checkpointed, got " + array.getDataType());
    }
    return new HostTensor(name, array.getShape().getShape(), array.toFloatArray());
  }

  /** Bytes of data in the safetensors file. */
  public long byteSize() {
    return (long) data.length * Float.BYTES;
  }

  // Records compare arrays by identity; compare contents, and keep data out of toString.
  @Override
  public boolean equals(Object o) {
    return o instanceof HostTensor t
        && name.equals(t.name)
        && Arrays.equals(shape, t.shape)
        && Arrays.equals(data, t.data);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * name.hashCode() + Arrays.hashCode(shape)) + Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return "HostTensor[" + name + " " + Arrays.toString(shape) + "]";
  }
}
