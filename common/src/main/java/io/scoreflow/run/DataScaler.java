package io.scoreflow.run;

import ai.djl.ndarray.NDArray;

/**
 * score_sde's data scaler: images arrive in [0, 1]; a centred model sees {@code 2x − 1} and its
 * samples map back with {@code (x + 1) / 2}.
 */
public enum DataScaler {
  IDENTITY,
  CENTERED;

  /** In place: data as read → what the network and the SDE see. */
  public NDArray forward(NDArray x) {
    return this == CENTERED ? x.muli(2).subi(1) : x;
  }

  /** In place: samples → data range. */
  public NDArray inverse(NDArray x) {
    return this == CENTERED ? x.addi(1).divi(2) : x;
  }

  /**
   * The log of the factor {@link #forward} multiplies each coordinate by (ln 2 for CENTERED): a
   * density of the scaled data is one of the data times {@code exp(D · logScale())}.
   */
  public double logScale() {
    return this == CENTERED ? Math.log(2) : 0;
  }

  /** The same, on host floats. */
  public void inverse(float[] x) {
    if (this == CENTERED) {
      for (int i = 0; i < x.length; i++) {
        x[i] = (x[i] + 1) / 2;
      }
    }
  }
}
