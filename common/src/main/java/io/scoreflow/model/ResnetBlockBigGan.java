package io.scoreflow.model;

import ai.djl.ndarray.NDArray;
import ai.djl.training.ParameterStore;

/**
 * {@code ResnetBlockBigGANpp} ({@code resblock_type = biggan}): GroupNorm, act, optional up- or
 * downsampling of both paths (FIR or naive), 3x3 conv, + time projection, GroupNorm, act, dropout,
 * 3x3 conv ({@code init_scale}); a 1x1 {@code Conv_2} shortcut when channels or resolution change;
 * residual optionally divided by sqrt(2).
 */
final class ResnetBlockBigGan extends ResBlock {
  enum Resample {
    NONE,
    UP,
    DOWN
  }

  private final int outCh;
  private final Nonlinearity act;
  private final Resample resample;
  private final Fir fir;
  private final float dropout;
  private final boolean skipRescale;
  private final GroupNorm norm0;
  private final Conv conv0;
  private final Dense dense0;
  private final GroupNorm norm1;
  private final Conv conv1;
  private final Conv conv2;

  /** {@code fir} null for naive (nearest / mean-pool) resampling. */
  ResnetBlockBigGan(
      Nonlinearity act,
      int inCh,
      int outCh,
      int tembDim,
      Resample resample,
      Fir fir,
      double dropout,
      boolean skipRescale,
      double initScale) {
    this.outCh = outCh;
    this.act = act;
    this.resample = resample;
    this.fir = fir;
    this.dropout = (float) dropout;
    this.skipRescale = skipRescale;
    norm0 = child("GroupNorm_0", new GroupNorm(inCh));
    conv0 = child("Conv_0", Conv.conv3x3(inCh, outCh, 1.0));
    dense0 = tembDim > 0 ? child("Dense_0", new Dense(tembDim, outCh)) : null;
    norm1 = child("GroupNorm_1", new GroupNorm(outCh));
    conv1 = child("Conv_1", Conv.conv3x3(outCh, outCh, initScale));
    conv2 =
        inCh != outCh || resample != Resample.NONE
            ? child("Conv_2", Conv.conv1x1(inCh, outCh))
            : null;
  }

  @Override
  int outChannels() {
    return outCh;
  }

  @Override
  double scale() {
    return resample == Resample.UP ? 2 : resample == Resample.DOWN ? 0.5 : 1;
  }

  private NDArray resample(NDArray x) {
    switch (resample) {
      case UP:
        return fir != null ? fir.upsample(x) : Ops.nearestUp2(x);
      case DOWN:
        return fir != null ? fir.downsample(x) : Ops.avgPool2(x);
      default:
        throw new AssertionError(resample);
    }
  }

  @Override
  NDArray apply(ParameterStore ps, NDArray x, NDArray actTemb, boolean training) {
    NDArray h = normAct(ps, norm0, act, x, training);
    NDArray skip = x;
    if (resample != Resample.NONE) {
      try (NDArray before = h) {
        h = resample(before);
      }
      skip = resample(x);
    }
    try (NDArray a = h) {
      h = conv0.apply(ps, a, training);
    }
    if (dense0 != null) {
      addTemb(ps, dense0, h, actTemb, training);
    }
    try (NDArray c = h;
        NDArray a = normAct(ps, norm1, act, c, training);
        NDArray d = Ops.dropoutOrNull(a, dropout, training)) {
      h = conv1.apply(ps, d == null ? a : d, training);
    }
    if (conv2 != null) {
      NDArray projected = conv2.apply(ps, skip, training);
      if (skip != x) {
        skip.close();
      }
      skip = projected;
    }
    try (NDArray residual = h) {
      return Ops.residual(skip, residual, skipRescale);
    } finally {
      if (skip != x) {
        skip.close();
      }
    }
  }
}
