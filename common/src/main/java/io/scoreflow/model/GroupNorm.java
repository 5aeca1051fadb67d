package io.scoreflow.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import io.scoreflow.InvalidInputException;

/**
 * {@code nn.GroupNorm(num_groups=min(C/4, 32), num_channels=C, eps=1e-6)}, as every norm in NCSN++.
 * Computed as a layer norm over a (B, G, -1) view followed by the per-channel affine map, which is
 * faster in DJL than means and variances by hand.
 */
final class GroupNorm extends LayerBlock {
  static final float EPS = 1e-6f;

  private final int channels;
  private final int groups;
  private final Parameter weight;
  private final Parameter bias;

  GroupNorm(int channels) {
    this.channels = channels;
    this.groups = Math.min(channels / 4, 32);
    InvalidInputException.require(
        groups > 0 && channels % groups == 0,
        "GroupNorm over %d channels needs min(C/4, 32) = %d groups to divide C;"
            + " choose nf and ch_mult so that every channel count is a multiple of 4 (below 128)"
            + " or of 32",
        channels,
        groups);
    weight = param("weight", Parameter.Type.GAMMA, new Shape(channels), Initializer.ONES, true);
    bias = param("bias", Parameter.Type.BETA, new Shape(channels), Initializer.ZEROS, true);
  }

  int groups() {
    return groups;
  }

  @Override
  public NDArray apply(ParameterStore ps, NDArray x, boolean training) {
    NDArray gamma = value(ps, weight, x, training);
    NDArray beta = value(ps, bias, x, training);
    Shape s = x.getShape();
    long b = s.get(0);
    long n = s.size() / (b * groups);
    Shape last = new Shape(n);
    try (NDArray v = x.reshape(b, groups, n);
        NDArray ones = x.getManager().ones(last);
        NDArray zeros = x.getManager().zeros(last);
        NDArray normed = v.getNDArrayInternal().layerNorm(v, last, ones, zeros, EPS).head();
        NDArray y = normed.reshape(s);
        NDArray g = Ops.channelView(gamma, s.dimension());
        NDArray be = Ops.channelView(beta, s.dimension())) {
      return y.mul(g).addi(be);
    }
  }

  @Override
  public Shape[] getOutputShapes(Shape[] shapes) {
    return new Shape[] {shapes[0]};
  }

  @Override
  public String toString() {
    return "GroupNorm(" + groups + ", " + channels + ")";
  }
}
