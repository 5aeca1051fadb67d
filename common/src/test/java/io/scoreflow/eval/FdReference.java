package io.scoreflow.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * The cases of {@code reference/fd_scipy.json}, made by {@code tools/reference/fd_scipy.py cases}
 * with scipy's {@code sqrtm} as pytorch-fid computes FD, and the SplitMix64 feature generator that
 * script uses, reproduced here so both sides see the same features (up to the last bit or so of the
 * mixing products, far below the tolerances).
 */
final class FdReference {

  private FdReference() {}

  /** One side of a case: {@code rows × cols} features {@code u M + shift}. */
  record Spec(long seed, int rows, int cols, double offset, double scale) {
    static Spec of(JsonNode n) {
      return new Spec(
          n.get("seed").asLong(),
          n.get("rows").asInt(),
          n.get("cols").asInt(),
          n.get("offset").asDouble(),
          n.get("scale").asDouble());
    }

    /**
     * Row-major features: {@code u M + shift} with {@code u} uniform on {@code [-1,1)^d}, {@code M
     * = scale (I + W/√d)}, {@code W} and {@code shift/offset} uniform on {@code [-1,1)}; drawn in
     * the order W (row-major), shift, u (row-major), as {@code fd_scipy.py} does.
     */
    double[] features() {
      SplitMix64 g = new SplitMix64(seed);
      int d = cols;
      double[] m = new double[d * d];
      for (int i = 0; i < d; i++) {
        for (int j = 0; j < d; j++) {
          m[i * d + j] = scale * ((i == j ? 1 : 0) + g.symmetric() / Math.sqrt(d));
        }
      }
      double[] shift = new double[d];
      for (int j = 0; j < d; j++) {
        shift[j] = offset * g.symmetric();
      }
      double[] u = new double[rows * d];
      for (int k = 0; k < u.length; k++) {
        u[k] = g.symmetric();
      }
      double[] x = new double[rows * d];
      for (int r = 0; r < rows; r++) {
        for (int j = 0; j < d; j++) {
          double sum = 0;
          for (int k = 0; k < d; k++) {
            sum += u[r * d + k] * m[k * d + j];
          }
          x[r * d + j] = sum + shift[j];
        }
      }
      return x;
    }

    GaussianStats fit() {
      return GaussianStats.fit(features(), rows, cols);
    }
  }

  /**
   * @param fd scipy's value (pytorch-fid's method)
   * @param fdMpmath the true value, from a 40-digit mpmath computation
   */
  record Case(
      String name, Spec a, Spec b, double fd, double fdMpmath, double meanA0, double covA00) {}

  static List<Case> cases() {
    try (InputStream in = FdReference.class.getResourceAsStream("/reference/fd_scipy.json")) {
      JsonNode root = new ObjectMapper().readTree(in);
      List<Case> cases = new ArrayList<>();
      for (JsonNode c : root.get("cases")) {
        cases.add(
            new Case(
                c.get("name").asText(),
                Spec.of(c.get("a")),
                Spec.of(c.get("b")),
                c.get("fd").asDouble(),
                c.get("fd_mpmath").asDouble(),
                c.get("mean_a_0").asDouble(),
                c.get("cov_a_00").asDouble()));
      }
      return cases;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** SplitMix64; {@code nextDouble() = (x >>> 11) · 2^-53}, as the Python twin computes it. */
  static final class SplitMix64 {
    private long state;

    SplitMix64(long seed) {
      state = seed;
    }

    long nextLong() {
      state += 0x9E3779B97F4A7C15L;
      long z = state;
      z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
      z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
      return z ^ (z >>> 31);
    }

    double nextDouble() {
      return (nextLong() >>> 11) * 0x1.0p-53;
    }

    double symmetric() {
      return 2.0 * nextDouble() - 1.0;
    }
  }
}
