package io.scoreflow.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;

/**
 * {@code layerspp.Downsample}: halves H and W. Without FIR: pad (0, 1, 0, 1) then a 3x3 stride-2
 * {@code Conv_0} if {@code with_conv}, else 2x2 average pooling. With FIR: {@code downsample_2d},
 * or {@code Conv2d_0} (FIR + stride-2 conv) if {@code with_conv}.
 */
final class Downsample extends LayerBlock {
  private final Fir fir;
  private final int outCh;
  private final Conv conv;
  private final FirConv firConv;

  /** {@code fir} null for the non-FIR variant. */
  Downsample(int inCh, int outCh, boolean withConv, Fir fir) {
    this.fir = fir;
    this.outCh = outCh;
    if (!withConv && inCh != outCh) {
      throw new IllegalArgumentException("Downsample without conv cannot change channels");
    }
    conv =
        fir == null && withConv
            ? child(
                "Conv_0",
                Conv.builder().channels(inCh, outCh).kernel(3).stride(2).padding(0).build())
            : null;
    firConv =
        fir != null && withConv
            ? child("Conv2d_0", new FirConv(inCh, outCh, FirConv.Mode.DOWN, fir))
            : null;
  }

  @Override
  public NDArray apply(ParameterStore ps, NDArray x, boolean training) {
    if (fir != null) {
      return firConv == null ? fir.downsample(x) : firConv.apply(ps, x, training);
    }
    if (conv == null) {
      // The reference pads (0, 1, 0, 1) first; with even H and W the pad never enters a window.
      return Ops.avgPool2(x);
    }
    try (NDArray padded = x.pad(new Shape(0, 1, 0, 1), 0)) {
      return conv.apply(ps, padded, training);
    }
  }

  @Override
  public Shape[] getOutputShapes(Shape[] shapes) {
    Shape s = shapes[0];
    return new Shape[] {new Shape(s.get(0), outCh, s.get(2) / 2, s.get(3) / 2)};
  }
}
