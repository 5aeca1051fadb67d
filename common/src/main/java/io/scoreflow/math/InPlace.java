package io.scoreflow.math;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;

/**
 * In-place assignment that stays in native memory. DJL's {@code copyTo} and {@code set(Buffer)} go
 * through a Java direct buffer, and on CPU the PyTorch engine then makes that buffer the target's
 * storage, kept alive only by the receiving Java object: done through a short-lived handle (a
 * gradient from {@code getGradient()}, which is a new handle on every call) the real tensor is left
 * pointing at memory the garbage collector frees — seen as NaN gradients that came and went with GC
 * timing. A full-slice {@code set} is PyTorch's own {@code index_put_}.
 */
public final class InPlace {

  private static final NDIndex ALL = new NDIndex(":");

  private InPlace() {}

  /** {@code target ← source} (same shape; target at least 1-D). */
  public static void assign(NDArray target, NDArray source) {
    if (!target.getShape().equals(source.getShape())) {
      throw new IllegalArgumentException(
          "cannot assign shape " + source.getShape() + " to " + target.getShape());
    }
    target.set(ALL, source);
  }

  /** {@code target ← 0}, also where it held NaN (which {@code muli(0)} keeps). */
  public static void zero(NDArray target) {
    target.set(ALL, 0f);
  }
}
