package io.scoreflow.train;

import static io.scoreflow.InvalidInputException.require;

import com.typesafe.config.Config;

/**
 * Adam with linear warm-up and global-norm gradient clipping, with score_sde's values as defaults
 * (lr 2e-4, β1 0.9, β2 0.999, ε 1e-8, warm-up 5000 steps, clip 1).
 *
 * @param warmupSteps the learning rate rises linearly over this many steps (0: none)
 * @param gradClip the global gradient norm is clipped to this (≤ 0: no clipping)
 */
public record AdamOptions(
    double learningRate, double beta1, double beta2, double eps, int warmupSteps, double gradClip) {

  public AdamOptions {
    require(learningRate > 0, "optim.lr must be > 0, got %s", learningRate);
    require(beta1 >= 0 && beta1 < 1, "optim.beta1 must be in [0, 1), got %s", beta1);
    require(beta2 >= 0 && beta2 < 1, "optim.beta2 must be in [0, 1), got %s", beta2);
    require(eps > 0, "optim.eps must be > 0, got %s", eps);
    require(warmupSteps >= 0, "optim.warmup must be >= 0, got %s", warmupSteps);
  }

  /** score_sde's defaults. */
  public static AdamOptions scoreSde() {
    return new AdamOptions(2e-4, 0.9, 0.999, 1e-8, 5000, 1.0);
  }

  /** From an {@code optim} block: lr, beta1, beta2, eps, warmup, grad-clip. */
  public static AdamOptions fromConfig(Config c) {
    return new AdamOptions(
        c.getDouble("lr"),
        c.getDouble("beta1"),
        c.getDouble("beta2"),
        c.getDouble("eps"),
        c.getInt("warmup"),
        c.getDouble("grad-clip"));
  }

  /**
   * The learning rate of step {@code step} (0-based), as score_sde's {@code optimization_manager}:
   * {@code lr · min(step / warmup, 1)}, so the very first step moves only the Adam moments.
   */
  public double learningRateAt(long step) {
    if (warmupSteps == 0) {
      return learningRate;
    }
    return learningRate * Math.min(1.0, (double) step / warmupSteps);
  }
}
