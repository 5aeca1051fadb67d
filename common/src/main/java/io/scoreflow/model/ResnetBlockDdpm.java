package io.scoreflow.model;

import ai.djl.ndarray.NDArray;
import ai.djl.training.ParameterStore;

/**
 * {@code ResnetBlockDDPMpp} ({@code resblock_type = ddpm}): GroupNorm, act, 3x3 conv, + time
 * projection, GroupNorm, act, dropout, 3x3 conv ({@code init_scale}); a {@code NIN_0} shortcut when
 * the channel count changes; residual optionally divided by sqrt(2).
 */
final class ResnetBlockDdpm extends ResBlock {
  private final int outCh;
  private final Nonlinearity act;
  private final float dropout;
  private final boolean skipRescale;
  private final GroupNorm norm0;
  private final Conv conv0;
  private final Dense dense0;
  private final GroupNorm norm1;
  private final Conv conv1;
  private final Nin nin0;

  ResnetBlockDdpm(
      Nonlinearity act,
      int inCh,
      int outCh,
      int tembDim,
      double dropout,
      boolean skipRescale,
      double initScale) {
    this.outCh = outCh;
    this.act = act;
    this.dropout = (float) dropout;
    this.skipRescale = skipRescale;
    norm0 = child("GroupNorm_0", new GroupNorm(inCh));
    conv0 = child("Conv_0", Conv.conv3x3(inCh, outCh, 1.0));
    dense0 = tembDim > 0 ? child("Dense_0", new Dense(tembDim, outCh)) : null;
    norm1 = child("GroupNorm_1", new GroupNorm(outCh));
    conv1 = child("Conv_1", Conv.conv3x3(outCh, outCh, initScale));
    nin0 = inCh != outCh ? child("NIN_0", new Nin(inCh, outCh)) : null;
  }

  @Override
  int outChannels() {
    return outCh;
  }

  @Override
  double scale() {
    return 1;
  }

  @Override
  NDArray apply(ParameterStore ps, NDArray x, NDArray actTemb, boolean training) {
    NDArray h;
    try (NDArray a = normAct(ps, norm0, act, x, training)) {
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
    try (NDArray residual = h;
        NDArray shortcut = nin0 == null ? null : nin0.apply(ps, x, training)) {
      return Ops.residual(shortcut == null ? x : shortcut, residual, skipRescale);
    }
  }
}
