package io.scoreflow.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import io.scoreflow.math.NativeArrays;

/**
 * {@code GaussianFourierProjection}: {@code [sin(2 pi x W), cos(2 pi x W)]} for a batch of scalars
 * x (B) and frozen weights {@code W ~ N(0, scale^2)} of size {@code embedding_size}; output (B,
 * 2·size). The weights are a parameter that never receives gradients, as in the reference ({@code
 * requires_grad=False}).
 */
final class FourierProjection extends LayerBlock {
  private final int size;
  private final Parameter w;

  FourierProjection(int size, double scale) {
    this.size = size;
    w = param("W", Parameter.Type.WEIGHT, new Shape(size), new GaussianInit(scale), false);
  }

  @Override
  public NDArray apply(ParameterStore ps, NDArray x, boolean training) {
    NDArray wv = value(ps, w, x, training);
    long b = x.getShape().get(0);
    // Same order of float operations as the reference: ((x * W) * 2) * pi.
    try (NDArray col = x.reshape(b, 1);
        NDArray row = wv.reshape(1, size);
        NDArray xw = col.mul(row);
        NDArray twice = NativeArrays.mul(xw, 2);
        NDArray proj = NativeArrays.mul(twice, Math.PI);
        NDArray sin = proj.sin();
        NDArray cos = proj.cos()) {
      return sin.concat(cos, 1);
    }
  }

  @Override
  public Shape[] getOutputShapes(Shape[] shapes) {
    return new Shape[] {new Shape(shapes[0].get(0), 2L * size)};
  }
}
