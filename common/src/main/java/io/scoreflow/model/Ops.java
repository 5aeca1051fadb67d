package io.scoreflow.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import io.scoreflow.math.NativeArrays;

/** Stateless tensor helpers shared by the layers. Results belong to the input's manager. */
final class Ops {
  static final double SQRT2 = Math.sqrt(2.0);

  private Ops() {}

  /** Nearest-neighbour upsampling by 2 ({@code naive_upsample_2d}, {@code interpolate nearest}). */
  static NDArray nearestUp2(NDArray x) {
    Shape s = x.getShape();
    long b = s.get(0);
    long c = s.get(1);
    long h = s.get(2);
    long w = s.get(3);
    try (NDArray v = x.reshape(b, c, h, 1, w, 1);
        NDArray e = v.broadcast(b, c, h, 2, w, 2)) {
      return e.reshape(b, c, 2 * h, 2 * w);
    }
  }

  /** 2x2 mean pooling ({@code naive_downsample_2d}, {@code avg_pool2d(2, 2)}). */
  static NDArray avgPool2(NDArray x) {
    return x.getNDArrayInternal()
        .avgPool(new Shape(2, 2), new Shape(2, 2), new Shape(0, 0), false, true);
  }

  /** Inverted dropout, active only when training with a positive rate; otherwise {@code null}. */
  static NDArray dropoutOrNull(NDArray x, float rate, boolean training) {
    if (!training || rate <= 0f) {
      return null;
    }
    return x.getNDArrayInternal().dropout(x, rate, true).singletonOrThrow();
  }

  /** {@code (a + b)} or {@code (a + b) / sqrt(2)}: the residual merge of the reference blocks. */
  static NDArray residual(NDArray a, NDArray b, boolean rescale) {
    NDArray sum = a.add(b);
    if (!rescale) {
      return sum;
    }
    try (sum) {
      return NativeArrays.div(sum, SQRT2);
    }
  }

  /** {@code p} viewed as {@code (1, C, 1, ..., 1)} to broadcast over a tensor of rank {@code n}. */
  static NDArray channelView(NDArray p, int rank) {
    long[] dims = new long[rank];
    java.util.Arrays.fill(dims, 1L);
    dims[1] = p.getShape().get(0);
    return p.reshape(dims);
  }
}
