package io.scoreflow.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.scoreflow.InvalidInputException;
import io.scoreflow.math.KeyedRandom;
import java.io.InputStream;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * KID against {@code tools/reference/kid_numpy.py} (torch-fidelity's estimator in numpy) on the
 * SplitMix64 features of {@link FdReference}, stored in {@code reference/kid_numpy.json}.
 */
class KernelInceptionDistanceTest {

  private static JsonNode reference() throws Exception {
    try (InputStream in =
        KernelInceptionDistanceTest.class.getResourceAsStream("/reference/kid_numpy.json")) {
      return new ObjectMapper().readTree(in);
    }
  }

  private static NDArray features(JsonNode spec, NDManager manager) {
    FdReference.Spec s = FdReference.Spec.of(spec);
    return manager.create(s.features(), new Shape(s.rows(), s.cols()));
  }

  /**
   * The full-set unbiased MMD² against numpy's to 1e-10 relative: both sum the same products in
   * float64, in different orders, so they differ by rounding only (~1e-15 of the kernel sums, whose
   * size is that of the result here).
   */
  @Test
  void mmd2MatchesTheNumpyReference() throws Exception {
    JsonNode cases = reference().get("mmd2");
    assertEquals(3, cases.size());
    try (NDManager manager = NDManager.newBaseManager()) {
      for (JsonNode c : cases) {
        double expected = c.get("mmd2").asDouble();
        double actual =
            KernelInceptionDistance.mmd2(
                features(c.get("a"), manager), features(c.get("b"), manager));
        assertEquals(expected, actual, 1e-10 * Math.abs(expected), c.get("name").asText());
      }
    }
  }

  /** The averaged subsets (same rows on both sides) and their spread, to 1e-10 relative. */
  @Test
  void kidOverSubsetsMatchesTheNumpyReference() throws Exception {
    try (NDManager manager = NDManager.newBaseManager()) {
      for (JsonNode c : reference().get("kid")) {
        NDArray a = features(c.get("a"), manager);
        int[] seen = {0};
        KernelInceptionDistance.Result r =
            KernelInceptionDistance.between(
                a,
                features(c.get("b"), manager),
                c.get("subset_size").asInt(),
                c.get("subsets").asInt(),
                c.get("seed").asLong(),
                k -> seen[0] = k);
        String name = c.get("name").asText();
        assertEquals(c.get("kid").asDouble(), r.kid(), 1e-10 * Math.abs(r.kid()), name);
        assertEquals(c.get("kid_std").asDouble(), r.std(), 1e-10 * r.std(), name);
        assertEquals(c.get("subset_size_used").asInt(), r.subsetSize(), name);
        assertEquals(c.get("subsets").asInt(), seen[0], name);
        long[] first =
            KernelInceptionDistance.subset(
                (int) a.getShape().get(0), r.subsetSize(), KeyedRandom.of(c.get("seed").asLong()));
        long[] expected = new long[5];
        for (int i = 0; i < 5; i++) {
          expected[i] = c.get("first_rows_a").get(i).asLong();
        }
        assertArrayEquals(expected, java.util.Arrays.copyOf(first, 5), name);
      }
    }
  }

  @Test
  void subsetsAreDistinctRowsInRange() {
    KeyedRandom random = KeyedRandom.of(5);
    for (int trial = 0; trial < 50; trial++) {
      long[] s = KernelInceptionDistance.subset(37, 20, random);
      Set<Long> distinct = new HashSet<>();
      for (long v : s) {
        assertTrue(v >= 0 && v < 37);
        distinct.add(v);
      }
      assertEquals(20, distinct.size());
    }
    // The whole set as one subset is a permutation of it.
    long[] all = KernelInceptionDistance.subset(9, 9, random);
    long[] sorted = all.clone();
    java.util.Arrays.sort(sorted);
    assertArrayEquals(new long[] {0, 1, 2, 3, 4, 5, 6, 7, 8}, sorted);
  }

  /**
   * The estimator is unbiased: for two sets from one law its mean over subsets is zero within its
   * standard error (std/√K), while two laws apart give a KID many standard errors above zero.
   */
  @Test
  void sameLawGivesZeroWithinErrorAndDifferentLawsDoNot() {
    try (NDManager manager = NDManager.newBaseManager()) {
      manager.getEngine().setRandomSeed(3);
      NDArray a = manager.randomNormal(new Shape(2000, 8), DataType.FLOAT64);
      NDArray b = manager.randomNormal(new Shape(2000, 8), DataType.FLOAT64);
      KernelInceptionDistance.Result same =
          KernelInceptionDistance.between(a, b, 200, 50, 1, k -> {});
      assertTrue(
          Math.abs(same.kid()) < 4 * same.std() / Math.sqrt(50), same.kid() + " +- " + same.std());
      KernelInceptionDistance.Result apart =
          KernelInceptionDistance.between(a, b.add(0.5), 200, 50, 1, k -> {});
      assertTrue(apart.kid() > 10 * apart.std() / Math.sqrt(50), apart.toString());
    }
  }

  @Test
  void badArgumentsAreOneClearLine() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray a = manager.zeros(new Shape(10, 4), DataType.FLOAT64);
      NDArray b = manager.zeros(new Shape(10, 5), DataType.FLOAT64);
      var e =
          assertThrows(
              InvalidInputException.class,
              () -> KernelInceptionDistance.between(a, b, 5, 2, 0, k -> {}));
      assertEquals("the feature sets have 4 and 5 columns", e.getMessage());
      assertThrows(
          InvalidInputException.class,
          () -> KernelInceptionDistance.between(a, a, 1, 2, 0, k -> {}));
      assertThrows(
          InvalidInputException.class,
          () -> KernelInceptionDistance.between(a, a, 5, 0, 0, k -> {}));
    }
  }
}
