package io.scoreflow.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import io.scoreflow.math.NativeArrays;

/**
 * {@code AttnBlockpp}: single-head self-attention over the H·W positions of a feature map,
 * channel-wise queries, keys and values by {@code NIN_0..2}, output projection {@code NIN_3} with
 * {@code init_scale}, residual connection optionally divided by sqrt(2).
 */
final class AttnBlock extends LayerBlock {
  private final int channels;
  private final boolean skipRescale;
  private final GroupNorm norm;
  private final Nin q;
  private final Nin k;
  private final Nin v;
  private final Nin proj;

  AttnBlock(int channels, boolean skipRescale, double initScale) {
    this.channels = channels;
    this.skipRescale = skipRescale;
    norm = child("GroupNorm_0", new GroupNorm(channels));
    q = child("NIN_0", new Nin(channels, channels));
    k = child("NIN_1", new Nin(channels, channels));
    v = child("NIN_2", new Nin(channels, channels));
    proj = child("NIN_3", new Nin(channels, channels, initScale));
  }

  @Override
  public NDArray apply(ParameterStore ps, NDArray x, boolean training) {
    Shape s = x.getShape();
    long b = s.get(0);
    long n = s.get(2) * s.get(3);
    NDArray attended;
    try (NDArray h = norm.apply(ps, x, training);
        NDArray flat = h.reshape(b, channels, n);
        NDArray tokens = flat.transpose(0, 2, 1); // (B, N, C)
        NDArray qv = q.applyLast(ps, tokens, training);
        NDArray kv = k.applyLast(ps, tokens, training);
        NDArray vv = v.applyLast(ps, tokens, training);
        NDArray kt = kv.transpose(0, 2, 1);
        NDArray dots = qv.batchMatMul(kt);
        NDArray logits = NativeArrays.mul(dots, Math.pow(channels, -0.5));
        NDArray weights = logits.softmax(-1);
        NDArray mixed = weights.batchMatMul(vv);
        NDArray out = proj.applyLast(ps, mixed, training);
        NDArray outT = out.transpose(0, 2, 1)) {
      attended = outT.reshape(s);
    }
    try (attended) {
      return Ops.residual(x, attended, skipRescale);
    }
  }

  @Override
  public Shape[] getOutputShapes(Shape[] shapes) {
    return new Shape[] {shapes[0]};
  }
}
