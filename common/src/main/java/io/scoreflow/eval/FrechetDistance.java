package io.scoreflow.eval;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.EigenDecomposition_F64;

/**
 * The Fréchet distance between two Gaussian fits,
 *
 * <pre>FD = ‖μ1 − μ2‖² + tr(Σ1 + Σ2 − 2 (Σ1^½ Σ2 Σ1^½)^½),</pre>
 *
 * which is FID when the features are Inception pool features, and which equals the squared
 * Wasserstein-2 distance between {@code N(μ1, Σ1)} and {@code N(μ2, Σ2)}.
 *
 * <p>Matrix square roots come from symmetric eigendecompositions (EJML's symmetric QR algorithm),
 * not from a general {@code sqrtm} of the non-symmetric product {@code Σ1 Σ2} as in pytorch-fid:
 * the two agree, because {@code Σ1 Σ2 = Σ1^½ (Σ1^½ Σ2)} and {@code Σ1^½ Σ2 Σ1^½ = (Σ1^½ Σ2) Σ1^½}
 * have the same eigenvalues, but the symmetric route has real eigenvalues by construction, needs
 * neither an imaginary-part check nor the diagonal offset pytorch-fid adds when {@code sqrtm} fails
 * on singular covariances, and keeps its accuracy on rank-deficient ones (eigenvalues at the
 * round-off level are clipped to 0 before their roots are taken; see the tests' mpmath reference).
 *
 * <p>Everything is double precision. Cost: two symmetric eigendecompositions and two matrix
 * products of size {@code d}, all in Java (EJML): about 1.5 min for d = 2048 on two busy cores.
 */
public final class FrechetDistance {

  private FrechetDistance() {}

  /**
   * The Fréchet distance between {@code a} and {@code b}, symmetric in its arguments up to
   * round-off. Mathematically non-negative; when the fits (nearly) coincide it can come out as a
   * round-off-sized negative number, which is returned as is rather than hidden.
   *
   * @throws IllegalArgumentException if the dimensions differ
   */
  public static double between(GaussianStats a, GaussianStats b) {
    int d = a.dim();
    if (b.dim() != d) {
      throw new IllegalArgumentException("dimensions differ: " + d + " vs " + b.dim());
    }
    double[] mu1 = a.mean();
    double[] mu2 = b.mean();
    double meanTerm = 0;
    for (int i = 0; i < d; i++) {
      double diff = mu1[i] - mu2[i];
      meanTerm += diff * diff;
    }
    DMatrixRMaj sigma1 = a.covariance();
    DMatrixRMaj sigma2 = b.covariance();
    return meanTerm
        + CommonOps_DDRM.trace(sigma1)
        + CommonOps_DDRM.trace(sigma2)
        - 2 * traceSqrtProduct(sigma1, sigma2);
  }

  /**
   * The Wasserstein-2 distance between the Gaussians {@code N(μa, Σa)} and {@code N(μb, Σb)}: the
   * square root of {@link #between}, with a round-off-sized negative distance read as 0.
   */
  public static double w2(GaussianStats a, GaussianStats b) {
    return Math.sqrt(Math.max(0, between(a, b)));
  }

  /**
   * {@code tr((Σ1^½ Σ2 Σ1^½)^½)} for symmetric positive semi-definite {@code Σ1}, {@code Σ2}. With
   * {@code Σ1 = V Λ Vᵀ}, {@code Σ1^½ Σ2 Σ1^½ = V (Λ^½ Vᵀ Σ2 V Λ^½) Vᵀ}, so the trace of its root is
   * the sum of the roots of the eigenvalues of {@code Λ^½ (Vᵀ Σ2 V) Λ^½}: one product fewer than
   * forming {@code Σ1^½}, and no eigenvectors needed for the second decomposition.
   */
  static double traceSqrtProduct(DMatrixRMaj sigma1, DMatrixRMaj sigma2) {
    int d = sigma1.getNumRows();
    EigenDecomposition_F64<DMatrixRMaj> eig1 = symmetricEig(sigma1, true);
    DMatrixRMaj v = new DMatrixRMaj(d, d);
    double[] rootLambda = new double[d];
    double[] lambda = clippedEigenvalues(eig1, d);
    for (int k = 0; k < d; k++) {
      rootLambda[k] = Math.sqrt(lambda[k]);
      DMatrixRMaj column = eig1.getEigenVector(k);
      for (int i = 0; i < d; i++) {
        v.set(i, k, column.get(i));
      }
    }
    DMatrixRMaj sigma2V = new DMatrixRMaj(d, d);
    CommonOps_DDRM.mult(sigma2, v, sigma2V);
    DMatrixRMaj m = new DMatrixRMaj(d, d);
    CommonOps_DDRM.multTransA(v, sigma2V, m);
    for (int i = 0; i < d; i++) {
      for (int j = i; j < d; j++) {
        // Symmetrise (the products are symmetric only up to round-off) and scale by Λ^½ both sides.
        double value = 0.5 * (m.get(i, j) + m.get(j, i)) * rootLambda[i] * rootLambda[j];
        m.set(i, j, value);
        m.set(j, i, value);
      }
    }
    // Positive semi-definite again (a congruence of Σ2), so the same clipping applies.
    double trace = 0;
    for (double mu : clippedEigenvalues(symmetricEig(m, false), d)) {
      trace += Math.sqrt(mu);
    }
    return trace;
  }

  /**
   * The eigenvalues of a positive semi-definite matrix with round-off removed. Mathematically they
   * are all ≥ 0, but a symmetric eigensolver returns each with an error of order {@code d ε λmax}:
   * a zero eigenvalue (a rank-deficient covariance, e.g. fewer samples than dimensions) comes out
   * as a tiny number of either sign. Negative ones would make the root NaN, and tiny positive ones
   * add √(d ε λmax) each to the trace, far more than their true 0, because the square root is
   * steepest at 0. So everything at or below {@code d ε λmax} is clipped to 0: an eigenvalue that
   * small cannot be told from round-off anyway.
   */
  private static double[] clippedEigenvalues(EigenDecomposition_F64<DMatrixRMaj> eig, int d) {
    double[] values = new double[d];
    double largest = 0;
    for (int k = 0; k < d; k++) {
      values[k] = eig.getEigenvalue(k).getReal();
      largest = Math.max(largest, Math.abs(values[k]));
    }
    double floor = d * Math.ulp(largest);
    for (int k = 0; k < d; k++) {
      if (values[k] <= floor) {
        values[k] = 0;
      }
    }
    return values;
  }

  private static EigenDecomposition_F64<DMatrixRMaj> symmetricEig(
      DMatrixRMaj matrix, boolean vectors) {
    EigenDecomposition_F64<DMatrixRMaj> eig =
        DecompositionFactory_DDRM.eig(matrix.getNumRows(), vectors, true);
    // decompose may overwrite its input: hand it a copy.
    if (!eig.decompose(matrix.copy())) {
      throw new IllegalStateException(
          "symmetric eigendecomposition failed ("
              + matrix.getNumRows()
              + "x"
              + matrix.getNumCols()
              + ")");
    }
    return eig;
  }
}
