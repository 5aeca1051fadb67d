package io.scoreflow.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * {@code layerspp.Combine}: merges the input pyramid into the main path, {@code Conv} (1x1, dim1 to
 * dim2) then concatenation along channels or sum.
 */
final class Combine extends TorchBlock {
  private final ScoreNetConfig.CombineMethod method;
  private final int dim2;
  private final Conv conv;

  Combine(int dim1, int dim2, ScoreNetConfig.CombineMethod method) {
    this.method = method;
    this.dim2 = dim2;
    conv = child("Conv", Conv.conv1x1(dim1, dim2));
  }

  /** {@code combine(x, y)}: x is the pyramid, y the main path. */
  NDArray apply(ParameterStore ps, NDArray x, NDArray y, boolean training) {
    try (NDArray h = conv.apply(ps, x, training)) {
      return method == ScoreNetConfig.CombineMethod.CAT ? h.concat(y, 1) : h.add(y);
    }
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    return new NDList(apply(ps, inputs.get(0), inputs.get(1), training));
  }

  @Override
  public Shape[] getOutputShapes(Shape[] shapes) {
    Shape y = shapes[1];
    long c = method == ScoreNetConfig.CombineMethod.CAT ? dim2 + y.get(1) : y.get(1);
    return new Shape[] {new Shape(y.get(0), c, y.get(2), y.get(3))};
  }
}
