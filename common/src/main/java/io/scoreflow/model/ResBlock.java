package io.scoreflow.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * A residual block conditioned on the time embedding. The reference blocks apply the activation to
 * {@code temb} themselves ({@code Dense_0(act(temb))}); here the network activates it once and
 * passes {@code act(temb)} to every block, which is the same function with one op per block less.
 */
abstract class ResBlock extends TorchBlock {

  /**
   * @param x (B, in, H, W)
   * @param actTemb {@code act(temb)} (B, 4 nf), or null for an unconditional network
   */
  abstract NDArray apply(ParameterStore ps, NDArray x, NDArray actTemb, boolean training);

  abstract int outChannels();

  /** Spatial scale of the output relative to the input: 2 (up), 1/2 (down) or 1. */
  abstract double scale();

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray temb = inputs.size() > 1 ? inputs.get(1) : null;
    return new NDList(apply(ps, inputs.get(0), temb, training));
  }

  @Override
  public Shape[] getOutputShapes(Shape[] shapes) {
    Shape s = shapes[0];
    return new Shape[] {
      new Shape(s.get(0), outChannels(), (long) (s.get(2) * scale()), (long) (s.get(3) * scale()))
    };
  }

  /** {@code h += Dense_0(act(temb))[:, :, None, None]}, in place. */
  static void addTemb(
      ParameterStore ps, Dense dense, NDArray h, NDArray actTemb, boolean training) {
    if (actTemb == null) {
      return;
    }
    try (NDArray t = dense.apply(ps, actTemb, training);
        NDArray t4 = t.reshape(t.getShape().get(0), t.getShape().get(1), 1, 1)) {
      h.addi(t4);
    }
  }

  /** {@code act(norm(x))}, closing the intermediate. */
  static NDArray normAct(
      ParameterStore ps, GroupNorm norm, Nonlinearity act, NDArray x, boolean training) {
    try (NDArray n = norm.apply(ps, x, training)) {
      return act.apply(n);
    }
  }
}
