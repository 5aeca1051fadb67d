package io.scoreflow.sample;

import io.scoreflow.sde.ForwardSde;

/**
 * The forward Markov chain of the VP (DDPM) and VE (SMLD) families on the sampler's grid, from the
 * SDE's own exact transitions rather than score_sde's fixed {@code linspace} tables, so that every
 * schedule and step count has its chain: between {@code s − η} and {@code s} the VP chain is {@code
 * x_s = √α x_{s−η} + √β ξ} with {@code α = 1 − β = (a1(s) / a1(s − η))²}, the VE chain {@code x_s =
 * x_{s−η} + √Δ ξ} with {@code Δ = a2(s) − a2(s − η)}.
 */
final class DiscreteChain {

  private DiscreteChain() {}

  /** β of the VP chain's step into s, as −expm1 of the log ratio (no cancellation for small η). */
  static double beta(ForwardSde sde, double s, double eta) {
    return -Math.expm1(2 * (Math.log(sde.meanCoeff(s)) - Math.log(sde.meanCoeff(before(s, eta)))));
  }

  /** Δ = a2(s) − a2(s − η) of the VE chain's step into s. */
  static double varianceJump(ForwardSde sde, double s, double eta) {
    return sde.variance(s) - sde.variance(before(s, eta));
  }

  /** The grid time before s: s − η, which rounding may put a hair below 0 at the last step. */
  static double before(double s, double eta) {
    return Math.max(0, s - eta);
  }
}
