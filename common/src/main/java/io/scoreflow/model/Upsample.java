package io.scoreflow.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;

/**
 * {@code layerspp.Upsample}: doubles H and W. Without FIR: nearest neighbour, then {@code Conv_0}
 * (3x3) if {@code with_conv}. With FIR: {@code upsample_2d}, or {@code Conv2d_0} (fused transposed
 * conv + FIR) if {@code with_conv}.
 */
final class Upsample extends LayerBlock {
  private final Fir fir;
  private final int outCh;
  private final Conv conv;
  private final FirConv firConv;

  /** {@code fir} null for the non-FIR variant. */
  Upsample(int inCh, int outCh, boolean withConv, Fir fir) {
    this.fir = fir;
    this.outCh = outCh;
    if (!withConv && inCh != outCh) {
      throw new IllegalArgumentException("Upsample without conv cannot change channels");
    }
    conv = fir == null && withConv ? child("Conv_0", Conv.conv3x3(inCh, outCh, 1.0)) : null;
    firConv =
        fir != null && withConv
            ? child("Conv2d_0", new FirConv(inCh, outCh, FirConv.Mode.UP, fir))
            : null;
  }

  @Override
  public NDArray apply(ParameterStore ps, NDArray x, boolean training) {
    if (fir == null) {
      NDArray h = Ops.nearestUp2(x);
      if (conv == null) {
        return h;
      }
      try (h) {
        return conv.apply(ps, h, training);
      }
    }
    return firConv == null ? fir.upsample(x) : firConv.apply(ps, x, training);
  }

  @Override
  public Shape[] getOutputShapes(Shape[] shapes) {
    Shape s = shapes[0];
    return new Shape[] {new Shape(s.get(0), outCh, s.get(2) * 2, s.get(3) * 2)};
  }
}
