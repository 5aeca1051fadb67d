package io.scoreflow.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.scoreflow.theory.GaussianLaw;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Fréchet distance against scipy (as pytorch-fid computes it) and against closed forms. */
class FrechetDistanceTest {

  private static final double SCIPY_TOLERANCE = 1e-6;
  private static final double MPMATH_TOLERANCE = 1e-12;
  private static final Path SCRIPT = Path.of("..", "tools", "reference", "fd_scipy.py");

  @Test
  void agreesWithCommittedScipyAndMpmathReferences() {
    double worstScipy = 0;
    double worstMpmath = 0;
    for (FdReference.Case c : FdReference.cases()) {
      GaussianStats a = c.a().fit();
      // The generator twins must agree before the distance can be compared.
      assertEquals(c.meanA0(), a.mean()[0], 1e-12, c.name() + ": mean[0] (generator)");
      assertEquals(c.covA00(), a.covariance().get(0, 0), 1e-12, c.name() + ": cov[0][0]");
      double fd = FrechetDistance.between(a, c.b().fit());
      double scipy = Math.abs(fd - c.fd()) / Math.abs(c.fd());
      double mpmath = Math.abs(fd - c.fdMpmath()) / Math.abs(c.fdMpmath());
      worstScipy = Math.max(worstScipy, scipy);
      worstMpmath = Math.max(worstMpmath, mpmath);
      System.out.printf(
          Locale.ROOT,
          "committed case %s: relative difference to scipy %.3g, to 40-digit mpmath %.3g%n",
          c.name(),
          scipy,
          mpmath);
      assertTrue(scipy < SCIPY_TOLERANCE, c.name() + ": fd " + fd + " vs scipy " + c.fd());
      // Tighter than scipy itself manages on the rank-deficient case (~1.5e-8), thanks to
      // clipping round-off eigenvalues before their square roots.
      assertTrue(mpmath < MPMATH_TOLERANCE, c.name() + ": fd " + fd + " vs mpmath " + c.fdMpmath());
    }
    System.out.printf(
        Locale.ROOT,
        "committed cases: worst relative difference to scipy %.3g, to mpmath %.3g%n",
        worstScipy,
        worstMpmath);
  }

  @Test
  void agreesWithLiveScipy(@TempDir Path dir) throws Exception {
    Assumptions.assumeTrue(
        scipyAvailable(), "python3 with numpy and scipy not found: live scipy check skipped");
    Random random = new Random(20250101);
    double[][] sizes = {{500, 500, 64}, {200, 120, 16}};
    for (double[] size : sizes) {
      int na = (int) size[0];
      int nb = (int) size[1];
      int d = (int) size[2];
      double[] xa = correlatedGaussian(random, na, d, 0.0, 1.0);
      double[] xb = correlatedGaussian(random, nb, d, 0.7, 2.5);
      Path fa = writeRaw(dir.resolve("a.f8"), xa);
      Path fb = writeRaw(dir.resolve("b.f8"), xb);
      double scipy = scipyFd(fa, fb, d);
      double fd =
          FrechetDistance.between(GaussianStats.fit(xa, na, d), GaussianStats.fit(xb, nb, d));
      double rel = Math.abs(fd - scipy) / Math.abs(scipy);
      System.out.printf(
          Locale.ROOT,
          "live scipy %dx%d vs %dx%d: fd %.15g, scipy %.15g, relative difference %.3g%n",
          na,
          d,
          nb,
          d,
          fd,
          scipy,
          rel);
      assertTrue(rel < SCIPY_TOLERANCE, "fd " + fd + " vs scipy " + scipy);
    }
  }

  @Test
  void distanceOfASetToItselfIsZero() {
    GaussianStats a = new FdReference.Spec(11, 500, 64, 1.0, 1.0).fit();
    double fd = FrechetDistance.between(a, a);
    double scale = CommonOps_DDRM.trace(a.covariance());
    assertEquals(0, fd, 1e-10 * scale, "fd(a, a) = " + fd);
    assertEquals(0, FrechetDistance.w2(a, a), Math.sqrt(1e-10 * scale));
  }

  @Test
  void distanceIsSymmetric() {
    GaussianStats a = new FdReference.Spec(12, 300, 32, 0.0, 1.0).fit();
    GaussianStats b = new FdReference.Spec(13, 150, 32, 0.5, 3.0).fit();
    double ab = FrechetDistance.between(a, b);
    double ba = FrechetDistance.between(b, a);
    assertEquals(ab, ba, 1e-10 * ab);
  }

  @Test
  void isotropicGaussiansHaveTheClosedForm() {
    int d = 20;
    double s1 = 0.7;
    double s2 = 2.3;
    double[] mu1 = new double[d];
    double[] mu2 = new double[d];
    double meanTerm = 0;
    for (int i = 0; i < d; i++) {
      mu1[i] = 0.1 * i;
      mu2[i] = -0.05 * i * i;
      meanTerm += (mu1[i] - mu2[i]) * (mu1[i] - mu2[i]);
    }
    GaussianStats a = stats(mu1, scaledIdentity(d, s1 * s1));
    GaussianStats b = stats(mu2, scaledIdentity(d, s2 * s2));
    double expected = meanTerm + d * (s1 - s2) * (s1 - s2);
    assertEquals(expected, FrechetDistance.between(a, b), 1e-12 * expected);
    assertEquals(Math.sqrt(expected), FrechetDistance.w2(a, b), 1e-12 * Math.sqrt(expected));
  }

  @Test
  void w2AgreesWithTheTheoryLabForIsotropicLaws() {
    GaussianLaw p = new GaussianLaw(0.3, 0.9, 7);
    GaussianLaw q = new GaussianLaw(-1.1, 0.2, 7);
    GaussianStats a = stats(filled(7, p.mean()), scaledIdentity(7, p.std() * p.std()));
    GaussianStats b = stats(filled(7, q.mean()), scaledIdentity(7, q.std() * q.std()));
    assertEquals(p.w2(q), a.w2(b), 1e-12);
  }

  @Test
  void nonCommutingTwoByTwoHasTheClosedForm() {
    // For 2x2 PSD M, tr √M = √(tr M + 2 √det M); here M = Σ1^½ Σ2 Σ1^½, so tr M = tr(Σ1 Σ2) and
    // det M = det Σ1 det Σ2, with no square roots of matrices at all.
    DMatrixRMaj s1 = new DMatrixRMaj(new double[][] {{2.0, 0.9}, {0.9, 1.0}});
    DMatrixRMaj s2 = new DMatrixRMaj(new double[][] {{0.5, -0.3}, {-0.3, 3.0}});
    DMatrixRMaj product = new DMatrixRMaj(2, 2);
    CommonOps_DDRM.mult(s1, s2, product);
    double traceRoot =
        Math.sqrt(
            CommonOps_DDRM.trace(product)
                + 2 * Math.sqrt(CommonOps_DDRM.det(s1) * CommonOps_DDRM.det(s2)));
    double[] mu1 = {1.0, -2.0};
    double[] mu2 = {0.5, 0.25};
    double expected = 0.25 + 2.25 * 2.25 + 3.0 + 3.5 - 2 * traceRoot;
    double fd = FrechetDistance.between(stats(mu1, s1), stats(mu2, s2));
    assertEquals(expected, fd, 1e-13 * expected);
  }

  @Test
  void diagonalCovariancesCompareRootsCoordinateByCoordinate() {
    double[] v1 = {1.0, 4.0, 0.0, 9.0};
    double[] v2 = {4.0, 4.0, 1.0, 0.25};
    double expected = 0;
    for (int i = 0; i < v1.length; i++) {
      double diff = Math.sqrt(v1[i]) - Math.sqrt(v2[i]);
      expected += diff * diff;
    }
    double fd =
        FrechetDistance.between(
            stats(new double[4], CommonOps_DDRM.diag(v1)),
            stats(new double[4], CommonOps_DDRM.diag(v2)));
    assertEquals(expected, fd, 1e-13 * expected);
  }

  @Test
  void fewerSamplesThanDimensionsStillGivesAFiniteDistance() {
    // Rank-deficient covariances (n ≤ d) have exact zero eigenvalues that round-off turns slightly
    // negative: they are clipped, so the distance of such a fit to itself is still ~0.
    GaussianStats a = new FdReference.Spec(14, 5, 40, 0.0, 1.0).fit();
    double fd = FrechetDistance.between(a, a);
    assertTrue(Double.isFinite(fd));
    assertEquals(0, fd, 1e-9 * CommonOps_DDRM.trace(a.covariance()));
  }

  @Test
  void differentDimensionsAreRefused() {
    GaussianStats a = stats(new double[2], CommonOps_DDRM.identity(2));
    GaussianStats b = stats(new double[3], CommonOps_DDRM.identity(3));
    assertThrows(IllegalArgumentException.class, () -> FrechetDistance.between(a, b));
  }

  static GaussianStats stats(double[] mean, DMatrixRMaj cov) {
    return new GaussianStats(mean, cov, OptionalLong.empty());
  }

  private static DMatrixRMaj scaledIdentity(int d, double v) {
    DMatrixRMaj m = CommonOps_DDRM.identity(d);
    CommonOps_DDRM.scale(v, m);
    return m;
  }

  private static double[] filled(int d, double v) {
    double[] x = new double[d];
    java.util.Arrays.fill(x, v);
    return x;
  }

  /** Rows {@code shift + scale · z A} with {@code z} standard normal and a fixed random mixing. */
  private static double[] correlatedGaussian(
      Random random, int n, int d, double shift, double scale) {
    double[] mix = new double[d * d];
    for (int k = 0; k < mix.length; k++) {
      mix[k] = random.nextGaussian() / Math.sqrt(d);
    }
    double[] z = new double[d];
    double[] x = new double[n * d];
    for (int r = 0; r < n; r++) {
      for (int k = 0; k < d; k++) {
        z[k] = random.nextGaussian();
      }
      for (int j = 0; j < d; j++) {
        double sum = z[j];
        for (int k = 0; k < d; k++) {
          sum += z[k] * mix[k * d + j];
        }
        x[r * d + j] = shift + scale * sum;
      }
    }
    return x;
  }

  private static Path writeRaw(Path file, double[] x) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(x.length * Double.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    buffer.asDoubleBuffer().put(x);
    Files.write(file, buffer.array());
    return file;
  }

  private static boolean scipyAvailable() {
    try {
      Process p =
          new ProcessBuilder("python3", "-c", "import numpy, scipy.linalg")
              .redirectErrorStream(true)
              .start();
      p.getInputStream().readAllBytes();
      return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0 && Files.exists(SCRIPT);
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static double scipyFd(Path a, Path b, int d) throws Exception {
    Process p =
        new ProcessBuilder("python3", SCRIPT.toString(), "pair", a.toString(), b.toString(), "" + d)
            .start();
    byte[] out = p.getInputStream().readAllBytes();
    byte[] err = p.getErrorStream().readAllBytes();
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "python3 timed out");
    assertEquals(0, p.exitValue(), new String(err, StandardCharsets.UTF_8));
    return new ObjectMapper().readTree(out).get("fd").asDouble();
  }
}
