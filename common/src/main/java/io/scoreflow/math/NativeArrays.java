package io.scoreflow.math;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.FloatBuffer;

/**
 * Arrays made from Java data whose memory belongs to the engine. On CPU, DJL's PyTorch engine wraps
 * the direct buffer behind {@code manager.create(float[])} with {@code torch::from_blob}, and only
 * the Java NDArray keeps that buffer alive. Autograd and views hold the native tensor without the
 * Java object: once that object is closed or unreachable the garbage collector may free memory the
 * backward pass still reads, and gradients turn to NaN depending on GC timing. A native clone is
 * reference-counted by PyTorch like any op result, so it is safe everywhere; the copy costs far
 * less than the step that consumes it. Parameters, constants of a forward pass and the inputs of a
 * training step are made here; arrays copied straight into others need not be.
 */
public final class NativeArrays {

  private NativeArrays() {}

  /** A float32 array of {@code shape} holding {@code data}, owned by {@code manager}. */
  public static NDArray copyOf(NDManager manager, float[] data, Shape shape) {
    return copyOf(manager, FloatBuffer.wrap(data), shape);
  }

  /** A float32 array of {@code shape} holding the remaining floats of {@code data}. */
  public static NDArray copyOf(NDManager manager, FloatBuffer data, Shape shape) {
    try (NDArray wrapped = manager.create(data, shape)) {
      return wrapped.duplicate();
    }
  }

  /**
   * {@code x · c}. Never DJL's {@code mul(Number)} where autograd records: it wraps the number in a
   * {@code from_blob} tensor and closes it straight after the op, while autograd keeps that tensor
   * to compute the gradient of {@code x} (d(x·c)/dx = c). Once the garbage collector frees the
   * wrapped buffer, the backward multiplies by whatever the memory then holds: NaN gradients for
   * the whole network, depending on GC timing, while the loss stays finite. A scalar made by the
   * engine ({@code full}) is reference-counted by PyTorch and outlives its Java handle as long as
   * autograd needs it.
   */
  public static NDArray mul(NDArray x, double c) {
    try (NDArray s = scalar(x, c)) {
      return x.mul(s);
    }
  }

  /** {@code x / c}; see {@link #mul}. */
  public static NDArray div(NDArray x, double c) {
    try (NDArray s = scalar(x, c)) {
      return x.div(s);
    }
  }

  /** A 0-dimensional array of {@code x}'s type holding {@code c}, in native memory. */
  private static NDArray scalar(NDArray x, double c) {
    return x.getManager().full(new Shape(), (float) c, x.getDataType());
  }
}
