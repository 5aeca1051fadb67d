package io.scoreflow.theory;

import io.scoreflow.eval.GaussianStats;

/**
 * An isotropic Gaussian law {@code N(mean·1, std²·I)} in {@code dim} dimensions.
 *
 * @param mean the mean of every coordinate
 * @param std the standard deviation of every coordinate
 */
public record GaussianLaw(double mean, double std, int dim) {

  /** This law as the mean and covariance of the evaluation maths: {@code (m·1, s² I)}. */
  public GaussianStats stats() {
    return GaussianStats.isotropic(mean, std, dim);
  }

  /**
   * The Wasserstein-2 distance to {@code other} (same dimension): for isotropic Gaussians, {@code
   * W2² = d ((m1 − m2)² + (s1 − s2)²)}.
   */
  public double w2(GaussianLaw other) {
    if (other.dim != dim) {
      throw new IllegalArgumentException("dimensions differ: " + dim + " vs " + other.dim);
    }
    return Math.sqrt(dim) * Math.hypot(mean - other.mean, std - other.std);
  }
}
