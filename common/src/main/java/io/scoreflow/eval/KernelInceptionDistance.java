package io.scoreflow.eval;

import static io.scoreflow.InvalidInputException.require;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.scoreflow.math.KeyedRandom;
import java.util.function.IntConsumer;

/**
 * The Kernel Inception Distance of Bińkowski et al. (2018), as clean-fid and torch-fidelity compute
 * it: the unbiased MMD² between two feature sets with the cubic polynomial kernel {@code k(x, y) =
 * (xᵀy / d + 1)³}, averaged over K subsets of M rows of each set drawn without replacement. Unlike
 * the Fréchet distance it assumes no Gaussian shape and its estimator is unbiased, so it is
 * comparable between sample counts.
 *
 * <p>The subsets come from the {@link KeyedRandom} stream of the seed: for each subset, M rows of
 * the first set and then M rows of the second, each by a partial Fisher–Yates shuffle of a fresh
 * identity permutation ({@code swap(p[j], p[j + nextInt(n − j)])} for j = 0..M−1, rows {@code
 * p[0..M)}), so any implementation can reproduce them.
 */
public final class KernelInceptionDistance {

  /** clean-fid's and torch-fidelity's defaults. */
  public static final int DEFAULT_SUBSET_SIZE = 1000;

  public static final int DEFAULT_SUBSETS = 100;

  private KernelInceptionDistance() {}

  /**
   * The estimate: the mean of the subsets' MMD² and their standard deviation (the population one,
   * numpy's {@code std}, as torch-fidelity reports), with the subset size actually used.
   */
  public record Result(double kid, double std, int subsetSize, int subsets) {}

  /**
   * KID between the rows of {@code a} and {@code b} (2-D, same column count, any floating type; the
   * arithmetic is float64). {@code subsetSize} is capped at the smaller row count (see {@link
   * Result#subsetSize}); {@code progress} receives each finished subset (1..K).
   */
  public static Result between(
      NDArray a, NDArray b, int subsetSize, int subsets, long seed, IntConsumer progress) {
    require(subsetSize >= 2, "--subset-size must be >= 2, got %s", subsetSize);
    require(subsets >= 1, "--subsets must be >= 1, got %s", subsets);
    int na = rows(a);
    int nb = rows(b);
    require(
        a.getShape().get(1) == b.getShape().get(1),
        "the feature sets have %d and %d columns",
        a.getShape().get(1),
        b.getShape().get(1));
    int m = Math.min(subsetSize, Math.min(na, nb));
    require(m >= 2, "KID needs at least 2 rows in each set, got %d and %d", na, nb);
    KeyedRandom random = KeyedRandom.of(seed);
    double[] mmd = new double[subsets];
    for (int i = 0; i < subsets; i++) {
      long[] ia = subset(na, m, random);
      long[] ib = subset(nb, m, random);
      try (NDManager scope = a.getManager().newSubManager()) {
        NDArray x = take(a, ia, scope);
        NDArray y = take(b, ib, scope);
        mmd[i] = mmd2(x, y);
      }
      progress.accept(i + 1);
    }
    double mean = 0;
    for (double v : mmd) {
      mean += v;
    }
    mean /= subsets;
    double sq = 0;
    for (double v : mmd) {
      sq += (v - mean) * (v - mean);
    }
    return new Result(mean, Math.sqrt(sq / subsets), m, subsets);
  }

  /**
   * The unbiased MMD² of the rows of x (n × d) and y (m × d), float64: {@code Σ_{i≠j} k(x_i, x_j) /
   * n(n−1) + Σ_{i≠j} k(y_i, y_j) / m(m−1) − 2 Σ k(x_i, y_j) / nm}. For n = m this is
   * torch-fidelity's {@code mmd2(mmd_est='unbiased')}.
   */
  public static double mmd2(NDArray x, NDArray y) {
    try (NDManager scope = x.getManager().newSubManager()) {
      NDArray xd = x.toType(DataType.FLOAT64, true);
      NDArray yd = y.toType(DataType.FLOAT64, true);
      xd.attach(scope);
      yd.attach(scope);
      double n = xd.getShape().get(0);
      double m = yd.getShape().get(0);
      double d = xd.getShape().get(1);
      double xx = offDiagonalSum(xd, d);
      double yy = offDiagonalSum(yd, d);
      double xy = kernel(xd, yd, d).sum().getDouble();
      return xx / (n * (n - 1)) + yy / (m * (m - 1)) - 2 * xy / (n * m);
    }
  }

  /** {@code (x yᵀ / d + 1)³}. */
  private static NDArray kernel(NDArray x, NDArray y, double d) {
    NDArray k = x.matMul(y.transpose()).divi(d).addi(1);
    return k.mul(k).muli(k);
  }

  /**
   * {@code Σ_{i≠j} k(x_i, x_j)}: the whole kernel matrix less its diagonal {@code (‖x_i‖²/d + 1)³}.
   */
  private static double offDiagonalSum(NDArray x, double d) {
    NDArray diagonal = x.square().sum(new int[] {1}).divi(d).addi(1);
    return kernel(x, x, d).sum().getDouble()
        - diagonal.mul(diagonal).muli(diagonal).sum().getDouble();
  }

  /** M distinct rows of n, by the partial Fisher–Yates shuffle the class comment describes. */
  static long[] subset(int n, int m, KeyedRandom random) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    long[] out = new long[m];
    for (int j = 0; j < m; j++) {
      int r = j + random.nextInt(n - j);
      int t = p[j];
      p[j] = p[r];
      p[r] = t;
      out[j] = p[j];
    }
    return out;
  }

  private static NDArray take(NDArray a, long[] rows, NDManager scope) {
    NDArray index = scope.create(rows);
    NDArray taken = a.get(index);
    taken.attach(scope);
    return taken;
  }

  private static int rows(NDArray a) {
    require(
        a.getShape().dimension() == 2,
        "features must be a 2-D array (rows = samples), got shape %s",
        a.getShape());
    require(a.getShape().get(0) <= Integer.MAX_VALUE, "too many rows: %d", a.getShape().get(0));
    return (int) a.getShape().get(0);
  }
}
