package io.scoreflow.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;

/**
 * score_sde's {@code NIN}: a per-pixel linear map over channels with {@code W} of shape (in, out)
 * (note: transposed with respect to {@code nn.Linear}) and {@code b} (out); {@code W} is {@code
 * default_init(init_scale)}, 0.1 unless given.
 */
final class Nin extends LayerBlock {
  private final int in;
  private final int out;
  private final Parameter w;
  private final Parameter b;

  Nin(int in, int out) {
    this(in, out, 0.1);
  }

  Nin(int in, int out, double initScale) {
    this.in = in;
    this.out = out;
    w = param("W", Parameter.Type.WEIGHT, new Shape(in, out), new VarianceScaling(initScale), true);
    b = param("b", Parameter.Type.BIAS, new Shape(out), Initializer.ZEROS, true);
  }

  /** On a channels-first (B, C, H, W) tensor, as a 1x1 convolution. */
  @Override
  public NDArray apply(ParameterStore ps, NDArray x, boolean training) {
    NDArray wv = value(ps, w, x, training);
    NDArray bv = value(ps, b, x, training);
    try (NDArray wt = wv.transpose();
        NDArray k = wt.reshape(out, in, 1, 1)) {
      return x.getNDArrayInternal()
          .convolution(x, k, bv, new Shape(1, 1), new Shape(0, 0), new Shape(1, 1), 1)
          .singletonOrThrow();
    }
  }

  /** On a channels-last (..., C) tensor: {@code x @ W + b}. */
  NDArray applyLast(ParameterStore ps, NDArray x, boolean training) {
    NDArray wv = value(ps, w, x, training);
    NDArray bv = value(ps, b, x, training);
    try (NDArray wt = wv.transpose()) {
      return x.getNDArrayInternal().linear(x, wt, bv).singletonOrThrow();
    }
  }

  @Override
  public Shape[] getOutputShapes(Shape[] shapes) {
    Shape s = shapes[0];
    return new Shape[] {new Shape(s.get(0), out, s.get(2), s.get(3))};
  }
}
