package io.scoreflow.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.scoreflow.InvalidInputException;
import java.util.OptionalLong;
import org.ejml.data.DMatrixRMaj;
import org.junit.jupiter.api.Test;

/** Gaussian fits: the N−1 covariance, chunking, stability under large offsets, bad input. */
class GaussianStatsTest {

  @Test
  void fitIsTheMeanAndTheUnbiasedCovariance() {
    // Three points in R^2: mean (1, 2); deviations (-1, -2), (0, 1), (1, 1).
    double[] x = {0, 0, 1, 3, 2, 3};
    GaussianStats s = GaussianStats.fit(x, 3, 2);
    assertArrayEquals(new double[] {1, 2}, s.mean(), 1e-15);
    DMatrixRMaj c = s.covariance();
    assertEquals((1 + 0 + 1) / 2.0, c.get(0, 0), 1e-15);
    assertEquals((4 + 1 + 1) / 2.0, c.get(1, 1), 1e-15);
    assertEquals((2 + 0 + 1) / 2.0, c.get(0, 1), 1e-15);
    assertEquals(c.get(0, 1), c.get(1, 0));
    assertEquals(OptionalLong.of(3), s.samples());
    assertEquals(2, s.dim());
  }

  @Test
  void chunksGiveTheSameFitAsOnePass() {
    FdReference.Spec spec = new FdReference.Spec(21, 103, 9, 0.5, 1.0);
    double[] x = spec.features();
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray features = m.create(x, new Shape(103, 9));
      GaussianStats whole = GaussianStats.fit(features);
      GaussianStats chunked = GaussianStats.fit(features, 7);
      assertArrayEquals(whole.mean(), chunked.mean(), 1e-14);
      assertArrayEquals(whole.covariance().getData(), chunked.covariance().getData(), 1e-13);
      // The caller's array is left as it was.
      assertArrayEquals(x, features.toDoubleArray());
    }
  }

  @Test
  void aLargeOffsetDoesNotCancelTheCovariance() {
    // Features 1e8 + u with u of order 1: E[xx'] - mm' would lose every digit of the covariance
    // in double precision; centring first keeps it.
    int n = 400;
    int d = 5;
    double[] u = new FdReference.Spec(22, n, d, 0.0, 1.0).features();
    double[] x = u.clone();
    for (int k = 0; k < x.length; k++) {
      x[k] += 1e8;
    }
    GaussianStats shifted = GaussianStats.fit(x, n, d);
    GaussianStats plain = GaussianStats.fit(u, n, d);
    double[] a = shifted.covariance().getData();
    double[] b = plain.covariance().getData();
    for (int k = 0; k < a.length; k++) {
      assertEquals(b[k], a[k], 1e-7, "covariance entry " + k);
    }
  }

  @Test
  void float32FeaturesAreFittedInDoublePrecision() {
    try (NDManager m = NDManager.newBaseManager()) {
      float[] x = {1e4f + 0.5f, 1, 1e4f - 0.5f, 2, 1e4f, 3};
      GaussianStats s = GaussianStats.fit(m.create(x, new Shape(3, 2)));
      assertEquals(0.25, s.covariance().get(0, 0), 1e-12);
      assertEquals(1.0, s.covariance().get(1, 1), 1e-12);
      assertEquals(-0.25, s.covariance().get(0, 1), 1e-12);
    }
  }

  @Test
  void fewerThanTwoRowsIsAnInputError() {
    InvalidInputException e =
        assertThrows(InvalidInputException.class, () -> GaussianStats.fit(new double[3], 1, 3));
    assertTrue(e.getMessage().contains("at least 2 samples"), e.getMessage());
  }

  @Test
  void nonFiniteValuesAreRefusedNamingTheRow() {
    double[] x = new double[5 * 2];
    x[3 * 2 + 1] = Double.NaN;
    InvalidInputException e =
        assertThrows(InvalidInputException.class, () -> GaussianStats.fit(x, 5, 2));
    assertTrue(e.getMessage().contains("row 3"), e.getMessage());
    x[3 * 2 + 1] = 0;
    x[4 * 2] = Double.NEGATIVE_INFINITY;
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray features = m.create(x, new Shape(5, 2));
      e = assertThrows(InvalidInputException.class, () -> GaussianStats.fit(features, 2));
      assertTrue(e.getMessage().contains("row 4"), e.getMessage());
    }
  }

  @Test
  void notTwoDimensionalIsAnInputError() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray flat = m.create(new float[6]);
      InvalidInputException e =
          assertThrows(InvalidInputException.class, () -> GaussianStats.fit(flat));
      assertTrue(e.getMessage().contains("2-D"), e.getMessage());
      NDArray bools = m.create(new boolean[] {true, false, true, false}, new Shape(2, 2));
      assertThrows(InvalidInputException.class, () -> GaussianStats.fit(bools));
    }
  }

  @Test
  void integerFeaturesAreAccepted() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray ints =
          m.create(new int[] {0, 0, 2, 4}, new Shape(2, 2)).toType(DataType.INT32, false);
      GaussianStats s = GaussianStats.fit(ints);
      assertArrayEquals(new double[] {1, 2}, s.mean(), 0);
      assertEquals(2.0, s.covariance().get(0, 0), 0);
    }
  }

  @Test
  void theRecordIsImmutableAndValidated() {
    double[] mean = {1, 2};
    DMatrixRMaj cov = new DMatrixRMaj(new double[][] {{1, 0.5}, {0.5, 1}});
    GaussianStats s = new GaussianStats(mean, cov, OptionalLong.empty());
    mean[0] = 99;
    cov.set(0, 0, 99);
    s.mean()[1] = 99;
    s.covariance().set(1, 1, 99);
    assertArrayEquals(new double[] {1, 2}, s.mean());
    assertEquals(1, s.covariance().get(0, 0));
    assertEquals(1, s.covariance().get(1, 1));

    DMatrixRMaj asymmetric = new DMatrixRMaj(new double[][] {{1, 0.5}, {0.4, 1}});
    assertThrows(
        IllegalArgumentException.class,
        () -> new GaussianStats(new double[2], asymmetric, OptionalLong.empty()));
    DMatrixRMaj negative = new DMatrixRMaj(new double[][] {{-1, 0}, {0, 1}});
    assertThrows(
        IllegalArgumentException.class,
        () -> new GaussianStats(new double[2], negative, OptionalLong.empty()));
    assertThrows(
        IllegalArgumentException.class,
        () -> new GaussianStats(new double[3], cov, OptionalLong.empty()));
    assertThrows(
        IllegalArgumentException.class,
        () -> new GaussianStats(new double[] {Double.NaN, 0}, cov, OptionalLong.empty()));
    // Round-off-sized asymmetry (float32 storage) is accepted and removed.
    DMatrixRMaj nearly = new DMatrixRMaj(new double[][] {{1, 0.5}, {0.5 + 1e-9, 1}});
    GaussianStats t = new GaussianStats(new double[2], nearly, OptionalLong.empty());
    assertEquals(t.covariance().get(0, 1), t.covariance().get(1, 0));
  }
}
