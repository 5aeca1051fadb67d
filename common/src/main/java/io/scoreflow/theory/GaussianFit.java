package io.scoreflow.theory;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.EigenDecomposition_F64;

/**
 * The Gaussian fit (sample mean, sample covariance with the N−1 denominator) of points in R^d, and
 * its W2 distance to an isotropic Gaussian {@code N(m·1, s² I)}: {@code W2² = ‖μ − m·1‖² + Σ_i
 * (√λ_i − s)²} over the eigenvalues λ_i of the covariance, since {@code s I} commutes with it.
 */
public record GaussianFit(double[] mean, DMatrixRMaj covariance, int samples) {

  /** The fit of {@code n} points of dimension {@code d}, row-major in {@code x}. */
  public static GaussianFit of(float[] x, int n, int d) {
    if (n < 2) {
      throw new IllegalArgumentException("a covariance needs at least 2 samples, got " + n);
    }
    double[] mean = new double[d];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < d; j++) {
        mean[j] += x[i * d + j];
      }
    }
    for (int j = 0; j < d; j++) {
      mean[j] /= n;
    }
    DMatrixRMaj cov = new DMatrixRMaj(d, d);
    double[] centred = new double[d];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < d; j++) {
        centred[j] = x[i * d + j] - mean[j];
      }
      for (int j = 0; j < d; j++) {
        for (int k = j; k < d; k++) {
          cov.add(j, k, centred[j] * centred[k]);
        }
      }
    }
    for (int j = 0; j < d; j++) {
      for (int k = j; k < d; k++) {
        double v = cov.get(j, k) / (n - 1);
        cov.set(j, k, v);
        cov.set(k, j, v);
      }
    }
    return new GaussianFit(mean, cov, n);
  }

  /** W2 between this fit and {@code N(target.mean·1, target.std² I)}. */
  public double w2(GaussianLaw target) {
    int d = mean.length;
    if (target.dim() != d) {
      throw new IllegalArgumentException("dimensions differ: " + d + " vs " + target.dim());
    }
    double sum = 0;
    for (double m : mean) {
      sum += (m - target.mean()) * (m - target.mean());
    }
    for (double lambda : eigenvalues()) {
      double root = Math.sqrt(Math.max(lambda, 0));
      sum += (root - target.std()) * (root - target.std());
    }
    return Math.sqrt(sum);
  }

  /** Eigenvalues of the (symmetric) covariance. */
  public double[] eigenvalues() {
    int d = mean.length;
    EigenDecomposition_F64<DMatrixRMaj> eig = DecompositionFactory_DDRM.eig(d, false, true);
    if (!eig.decompose(covariance.copy())) {
      throw new IllegalStateException("eigendecomposition of the covariance failed");
    }
    double[] values = new double[d];
    for (int i = 0; i < d; i++) {
      values[i] = eig.getEigenvalue(i).getReal();
    }
    return values;
  }
}
