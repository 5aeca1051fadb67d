package io.scoreflow.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;

/**
 * {@code nn.Linear} as score_sde initializes it: weight {@code default_init(scale)} of shape (out,
 * in), bias zero.
 */
final class Dense extends LayerBlock {
  private final int in;
  private final int out;
  private final Parameter weight;
  private final Parameter bias;

  Dense(int in, int out) {
    this(in, out, 1.0);
  }

  Dense(int in, int out, double initScale) {
    this.in = in;
    this.out = out;
    weight =
        param(
            "weight",
            Parameter.Type.WEIGHT,
            new Shape(out, in),
            new VarianceScaling(initScale),
            true);
    bias = param("bias", Parameter.Type.BIAS, new Shape(out), Initializer.ZEROS, true);
  }

  int outFeatures() {
    return out;
  }

  @Override
  public NDArray apply(ParameterStore ps, NDArray x, boolean training) {
    NDArray w = value(ps, weight, x, training);
    NDArray b = value(ps, bias, x, training);
    return x.getNDArrayInternal().linear(x, w, b).singletonOrThrow();
  }

  @Override
  public Shape[] getOutputShapes(Shape[] shapes) {
    Shape s = shapes[0];
    return new Shape[] {s.slice(0, s.dimension() - 1).add(out)};
  }

  @Override
  public String toString() {
    return "Dense(" + in + " -> " + out + ")";
  }
}
