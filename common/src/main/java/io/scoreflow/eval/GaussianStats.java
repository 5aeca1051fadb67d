package io.scoreflow.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.scoreflow.InvalidInputException;
import java.util.OptionalLong;
import org.ejml.data.DMatrixRMaj;

/**
 * The Gaussian fit of a feature set: the sample mean and the sample covariance with the N−1
 * denominator (as {@code numpy.cov} and pytorch-fid), in double precision. Also the form in which
 * reference statistics are cached per dataset ({@link StatsFiles}).
 *
 * <p>Arrays are copied in and out, so an instance is immutable. The covariance must be finite, with
 * non-negative diagonal, and symmetric up to a relative 1e-6 (it is then made exactly symmetric);
 * positive semi-definiteness is not checked, since round-off makes tiny negative eigenvalues normal
 * (see {@link FrechetDistance}).
 *
 * @param mean the mean, length {@code d}
 * @param covariance the {@code d × d} covariance, symmetric
 * @param samples how many rows the fit was made from, empty when unknown (statistics loaded from a
 *     file that does not say)
 */
public record GaussianStats(double[] mean, DMatrixRMaj covariance, OptionalLong samples) {

  /** Doubles per chunk of rows when fitting: 32 MiB of float64 at a time. */
  private static final long CHUNK_ELEMENTS = 1L << 22;

  /** The largest d whose d × d covariance fits one Java array. */
  static final long MAX_DIM = 46_340;

  /**
   * Relative asymmetry a covariance may carry (round-off of whoever computed it, or float32
   * storage) before it is refused; within it, the matrix is made exactly symmetric.
   */
  private static final double SYMMETRY_TOLERANCE = 1e-6;

  public GaussianStats {
    int d = mean.length;
    if (covariance.getNumRows() != d || covariance.getNumCols() != d) {
      throw new IllegalArgumentException(
          "covariance is "
              + covariance.getNumRows()
              + "x"
              + covariance.getNumCols()
              + " but the mean has length "
              + d);
    }
    if (samples.isPresent() && samples.getAsLong() < 2) {
      throw new IllegalArgumentException(
          "a fit needs at least 2 samples, got " + samples.getAsLong());
    }
    for (int i = 0; i < d; i++) {
      if (!Double.isFinite(mean[i])) {
        throw new IllegalArgumentException("mean[" + i + "] is " + mean[i] + ", not finite");
      }
    }
    covariance = covariance.copy();
    for (int i = 0; i < d; i++) {
      double vi = covariance.get(i, i);
      if (!(vi >= 0) || Double.isInfinite(vi)) {
        throw new IllegalArgumentException(
            "covariance[" + i + "][" + i + "] is " + vi + ", not a finite variance >= 0");
      }
      for (int j = 0; j < i; j++) {
        double lower = covariance.get(i, j);
        double upper = covariance.get(j, i);
        if (!Double.isFinite(lower) || !Double.isFinite(upper)) {
          throw new IllegalArgumentException(
              "covariance[" + i + "][" + j + "] is not finite (" + lower + ", " + upper + ")");
        }
        // Off-diagonal entries are bounded by √(σii σjj): judge asymmetry on that scale.
        double scale = Math.sqrt(vi * covariance.get(j, j));
        if (Math.abs(lower - upper) > SYMMETRY_TOLERANCE * scale) {
          throw new IllegalArgumentException(
              "covariance is not symmetric: ["
                  + i
                  + "]["
                  + j
                  + "] = "
                  + lower
                  + " but ["
                  + j
                  + "]["
                  + i
                  + "] = "
                  + upper);
        }
        double v = 0.5 * (lower + upper);
        covariance.set(i, j, v);
        covariance.set(j, i, v);
      }
    }
    mean = mean.clone();
  }

  /** The fit's dimension {@code d}. */
  public int dim() {
    return mean.length;
  }

  @Override
  public double[] mean() {
    return mean.clone();
  }

  @Override
  public DMatrixRMaj covariance() {
    return covariance.copy();
  }

  /**
   * The Fréchet distance to {@code other}; see {@link FrechetDistance#between}. Equals the squared
   * Wasserstein-2 distance between the two Gaussians.
   */
  public double frechetDistance(GaussianStats other) {
    return FrechetDistance.between(this, other);
  }

  /** The Wasserstein-2 distance between the two Gaussians; see {@link FrechetDistance#w2}. */
  public double w2(GaussianStats other) {
    return FrechetDistance.w2(this, other);
  }

  /** The isotropic law {@code N(mean·1, std²·I)} in {@code dim} dimensions. */
  public static GaussianStats isotropic(double mean, double std, int dim) {
    double[] m = new double[dim];
    java.util.Arrays.fill(m, mean);
    DMatrixRMaj covariance = org.ejml.dense.row.CommonOps_DDRM.identity(dim);
    org.ejml.dense.row.CommonOps_DDRM.scale(std * std, covariance);
    return new GaussianStats(m, covariance, OptionalLong.empty());
  }

  /**
   * The fit of {@code rows × cols} points held row-major in {@code x}.
   *
   * @throws InvalidInputException if there are fewer than 2 rows or a value is not finite
   */
  public static GaussianStats fit(double[] x, int rows, int cols) {
    if ((long) rows * cols != x.length) {
      throw new IllegalArgumentException(
          rows + " x " + cols + " points need " + (long) rows * cols + " values, got " + x.length);
    }
    try (NDManager manager = NDManager.newBaseManager()) {
      return fit(manager.create(x, new Shape(rows, cols)));
    }
  }

  /**
   * The fit of a 2-D array of features (rows are samples, columns feature dimensions), of any
   * numeric type. The arithmetic is float64 on the array's engine (a covariance of 50 000 × 2048
   * features is a dgemm, not a Java loop), over chunks of rows so that memory stays bounded. The
   * covariance is accumulated from centred rows (two passes: mean, then the centred Gram matrix),
   * which avoids the cancellation of {@code E[xxᵀ] − μμᵀ}. {@code features} is left unchanged.
   *
   * @throws InvalidInputException if the array is not 2-D and numeric, has fewer than 2 rows, or
   *     holds a NaN or an infinity (the message names the first such row)
   */
  public static GaussianStats fit(NDArray features) {
    return fit(features, 0);
  }

  /** {@link #fit(NDArray)} over chunks of {@code chunkRows} rows (0: about 32 MiB of float64). */
  static GaussianStats fit(NDArray features, long chunkRows) {
    Shape shape = features.getShape();
    DataType type = features.getDataType();
    InvalidInputException.require(
        shape.dimension() == 2,
        "features must be a 2-D array (rows = samples, columns = feature dimensions), got shape %s",
        shape);
    InvalidInputException.require(
        type.isFloating() || type.isInteger(), "features must be numeric, got %s", type);
    long n = shape.get(0);
    long d = shape.get(1);
    InvalidInputException.require(
        n >= 2, "a covariance needs at least 2 samples (rows), got %d", n);
    InvalidInputException.require(d >= 1, "features have no columns (shape %s)", shape);
    InvalidInputException.require(
        d <= MAX_DIM, "%d feature dimensions: a d x d covariance allows at most %d", d, MAX_DIM);
    long chunk = chunkRows > 0 ? chunkRows : Math.max(1, CHUNK_ELEMENTS / d);
    try (NDManager scope = features.getManager().newSubManager()) {
      NDArray sum = scope.zeros(new Shape(d), DataType.FLOAT64);
      for (long from = 0; from < n; from += chunk) {
        try (NDManager step = scope.newSubManager()) {
          NDArray rows = rows(features, from, Math.min(n, from + chunk), step);
          requireFinite(rows, from);
          sum.addi(rows.sum(new int[] {0}));
        }
      }
      NDArray mu = sum.div(n);
      NDArray gram = scope.zeros(new Shape(d, d), DataType.FLOAT64);
      for (long from = 0; from < n; from += chunk) {
        try (NDManager step = scope.newSubManager()) {
          NDArray centred = rows(features, from, Math.min(n, from + chunk), step).sub(mu);
          gram.addi(centred.transpose().matMul(centred));
        }
      }
      int dim = (int) d;
      // A gemm's Gram matrix is symmetric up to round-off only; the constructor symmetrises it.
      DMatrixRMaj sigma = DMatrixRMaj.wrap(dim, dim, gram.div(n - 1).toDoubleArray());
      return new GaussianStats(mu.toDoubleArray(), sigma, OptionalLong.of(n));
    }
  }

  /** Rows {@code [from, to)} as a float64 array owned by {@code step}. */
  private static NDArray rows(NDArray features, long from, long to, NDManager step) {
    NDArray view = features.get(new NDIndex("{}:{}", from, to));
    view.attach(step);
    // copy = true: never hand out a view of the caller's array, even to code of ours.
    return view.toType(DataType.FLOAT64, true);
  }

  private static void requireFinite(NDArray rows, long firstRow) {
    NDArray bad = rows.isNaN().logicalOr(rows.isInfinite());
    if (!bad.any().getBoolean()) {
      return;
    }
    long[] perRow = bad.toType(DataType.INT64, false).sum(new int[] {1}).toLongArray();
    int i = 0;
    while (perRow[i] == 0) {
      i++;
    }
    throw new InvalidInputException(
        String.format(
            java.util.Locale.ROOT,
            "features hold a non-finite value (NaN or infinity) in row %d",
            firstRow + i));
  }
}
