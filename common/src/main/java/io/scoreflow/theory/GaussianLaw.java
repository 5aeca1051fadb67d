package io.scoreflow.theory;

import io.scoreflow.eval.GaussianStats;
import java.util.OptionalLong;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;

/**
 * An isotropic Gaussian law {@code N(mean·1, std²·I)} in {@code dim} dimensions.
 *
 * @param mean the mean of every coordinate
 * @param std the standard deviation of every coordinate
 */
public record GaussianLaw(double mean, double std, int dim) {

  /** This law as the mean and covariance of the evaluation maths: {@code (m·1, s² I)}. */
  public GaussianStats stats() {
    double[] m = new double[dim];
    java.util.Arrays.fill(m, mean);
    DMatrixRMaj covariance = CommonOps_DDRM.identity(dim);
    CommonOps_DDRM.scale(std * std, covariance);
    return new GaussianStats(m, covariance, OptionalLong.empty());
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
