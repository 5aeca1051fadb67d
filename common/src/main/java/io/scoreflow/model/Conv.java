package io.scoreflow.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;

/**
 * {@code nn.Conv2d} with score_sde's DDPM initialization ({@code ddpm_conv3x3} / {@code
 * ddpm_conv1x1}): weight {@code default_init(init_scale)}, bias zero. Parameters {@code weight}
 * (out, in, k, k) and {@code bias} (out).
 */
final class Conv extends LayerBlock {
  private final int inCh;
  private final int outCh;
  private final int kernel;
  private final int stride;
  private final int padding;
  private final Parameter weight;
  private final Parameter bias;

  private Conv(Builder b) {
    this.inCh = b.inCh;
    this.outCh = b.outCh;
    this.kernel = b.kernel;
    this.stride = b.stride;
    this.padding = b.padding < 0 ? b.kernel / 2 : b.padding;
    weight =
        param(
            "weight",
            Parameter.Type.WEIGHT,
            new Shape(outCh, inCh, kernel, kernel),
            new VarianceScaling(b.initScale),
            true);
    bias = param("bias", Parameter.Type.BIAS, new Shape(outCh), Initializer.ZEROS, true);
  }

  /** {@code ddpm_conv3x3(in, out, init_scale)}: 3x3, stride 1, padding 1. */
  static Conv conv3x3(int in, int out, double initScale) {
    return builder().channels(in, out).kernel(3).initScale(initScale).build();
  }

  /** {@code ddpm_conv1x1(in, out)}: 1x1, stride 1, padding 0, init scale 1. */
  static Conv conv1x1(int in, int out) {
    return builder().channels(in, out).kernel(1).build();
  }

  static Builder builder() {
    return new Builder();
  }

  int outChannels() {
    return outCh;
  }

  @Override
  public NDArray apply(ParameterStore ps, NDArray x, boolean training) {
    NDArray w = value(ps, weight, x, training);
    NDArray b = value(ps, bias, x, training);
    return x.getNDArrayInternal()
        .convolution(
            x, w, b, new Shape(stride, stride), new Shape(padding, padding), new Shape(1, 1), 1)
        .singletonOrThrow();
  }

  @Override
  public Shape[] getOutputShapes(Shape[] in) {
    Shape s = in[0];
    long h = (s.get(2) + 2L * padding - kernel) / stride + 1;
    long w = (s.get(3) + 2L * padding - kernel) / stride + 1;
    return new Shape[] {new Shape(s.get(0), outCh, h, w)};
  }

  /** Options of a {@link Conv}; defaults: 3x3, stride 1, "same" padding, init scale 1. */
  static final class Builder {
    private int inCh;
    private int outCh;
    private int kernel = 3;
    private int stride = 1;
    private int padding = -1;
    private double initScale = 1.0;

    Builder channels(int in, int out) {
      this.inCh = in;
      this.outCh = out;
      return this;
    }

    Builder kernel(int k) {
      this.kernel = k;
      return this;
    }

    Builder stride(int s) {
      this.stride = s;
      return this;
    }

    Builder padding(int p) {
      this.padding = p;
      return this;
    }

    Builder initScale(double s) {
      this.initScale = s;
      return this;
    }

    Conv build() {
      if (inCh <= 0 || outCh <= 0) {
        throw new IllegalArgumentException(
            "conv channels must be positive, got in=" + inCh + " out=" + outCh);
      }
      if (kernel <= 0 || stride <= 0) {
        throw new IllegalArgumentException("conv kernel and stride must be positive");
      }
      return new Conv(this);
    }
  }
}
