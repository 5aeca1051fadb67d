package io.scoreflow.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;

/**
 * {@code up_or_down_sampling.Conv2d}: a K x K convolution fused with FIR upsampling ({@code
 * upsample_conv_2d}) or downsampling ({@code conv_downsample_2d}); parameters {@code weight} (out,
 * in, K, K) with {@code default_init()} and {@code bias} (out), zero.
 */
final class FirConv extends LayerBlock {
  enum Mode {
    UP,
    DOWN
  }

  private final Mode mode;
  private final Fir fir;
  private final int outCh;
  private final Parameter weight;
  private final Parameter bias;

  FirConv(int inCh, int outCh, Mode mode, Fir fir) {
    this.mode = mode;
    this.fir = fir;
    this.outCh = outCh;
    weight =
        param(
            "weight",
            Parameter.Type.WEIGHT,
            new Shape(outCh, inCh, 3, 3),
            new VarianceScaling(1.0),
            true);
    bias = param("bias", Parameter.Type.BIAS, new Shape(outCh), Initializer.ZEROS, true);
  }

  @Override
  public NDArray apply(ParameterStore ps, NDArray x, boolean training) {
    NDArray w = value(ps, weight, x, training);
    NDArray b = value(ps, bias, x, training);
    NDArray y = mode == Mode.UP ? fir.upsampleConv(x, w) : fir.convDownsample(x, w);
    try (NDArray bv = Ops.channelView(b, 4)) {
      return y.addi(bv);
    }
  }

  @Override
  public Shape[] getOutputShapes(Shape[] shapes) {
    Shape s = shapes[0];
    long h = mode == Mode.UP ? s.get(2) * 2 : s.get(2) / 2;
    long w = mode == Mode.UP ? s.get(3) * 2 : s.get(3) / 2;
    return new Shape[] {new Shape(s.get(0), outCh, h, w)};
  }
}
