package io.scoreflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import io.scoreflow.eval.KernelInceptionDistance;
import io.scoreflow.model.Weights;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code scoreflow eval kid} as a user sees it. */
class EvalKidCliTest {

  @TempDir Path dir;

  @Test
  void kidJsonHasTheDocumentedKeysAndTheLibraryValue() throws Exception {
    double[] xa = gaussian(new Random(1), 60, 4, 0.0, 1.0);
    double[] xb = gaussian(new Random(2), 40, 4, 0.5, 2.0);
    Path a = features("a.safetensors", xa, 60, 4);
    Path b = features("b.safetensors", xb, 40, 4);
    CliTest.Result r =
        CliTest.run(
            "eval",
            "kid",
            "--a",
            a.toString(),
            "--b",
            b.toString(),
            "--subsets",
            "5",
            "--seed",
            "9",
            "--json");
    assertEquals(0, r.code(), r.err());
    // The default M = 1000 is capped at the smaller set, and the user is told.
    assertTrue(
        r.err().contains("--subset-size 1000 capped at 40, the smaller feature count"), r.err());
    JsonNode json = r.json();
    assertEquals(
        new TreeSet<>(
            List.of(
                "kid",
                "kid_std",
                "subset_size",
                "subsets",
                "seed",
                "dim",
                "a",
                "b",
                "samples_a",
                "samples_b")),
        keys(json));
    try (NDManager m = NDManager.newBaseManager()) {
      KernelInceptionDistance.Result expected =
          KernelInceptionDistance.between(
              m.create(xa, new Shape(60, 4)), m.create(xb, new Shape(40, 4)), 40, 5, 9, k -> {});
      assertEquals(expected.kid(), json.get("kid").asDouble(), 1e-12 * Math.abs(expected.kid()));
      assertEquals(expected.std(), json.get("kid_std").asDouble(), 1e-12 * expected.std());
    }
    assertEquals(40, json.get("subset_size").asInt());
    assertEquals(5, json.get("subsets").asInt());
    assertEquals(60, json.get("samples_a").asLong());
    // Far-apart laws: the KID is clearly positive.
    assertTrue(json.get("kid").asDouble() > 0.1, json.toString());
  }

  @Test
  void kidTextNamesTheFilesAndTheDistance() throws Exception {
    Path a = features("a.safetensors", gaussian(new Random(3), 30, 2, 0, 1), 30, 2);
    CliTest.Result r =
        CliTest.run("eval", "kid", "--a", a.toString(), "--b", a.toString(), "--subset-size", "10");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("30 samples"), r.out());
    assertTrue(r.out().contains("subsets 100 of 10 rows, seed 0"), r.out());
    assertTrue(r.out().contains("KID "), r.out());
  }

  @Test
  void precomputedStatisticsAreRefusedInOneLine() throws Exception {
    Path stats = dir.resolve("fid-stats.safetensors");
    try (NDManager m = NDManager.newBaseManager()) {
      Map<String, NDArray> t = new LinkedHashMap<>();
      t.put("mu", m.create(new double[] {0, 0}));
      t.put("sigma", m.create(new double[] {1, 0, 0, 1}, new Shape(2, 2)));
      Weights.write(t, stats);
    }
    Path b = features("b.safetensors", gaussian(new Random(6), 30, 2, 0, 1), 30, 2);
    CliTest.Result r = CliTest.run("eval", "kid", "--a", stats.toString(), "--b", b.toString());
    assertBadInput(r, "fid-stats.safetensors holds precomputed 'mu'/'sigma' only: KID needs");
    Path c = features("c.safetensors", gaussian(new Random(7), 30, 3, 0, 1), 30, 3);
    assertBadInput(
        CliTest.run("eval", "kid", "--a", b.toString(), "--b", c.toString()),
        "has 2 feature dimensions but");
    assertBadInput(
        CliTest.run("eval", "kid", "--a", b.toString(), "--b", b.toString(), "--subsets", "0"),
        "--subsets must be >= 1, got 0");
  }

  private static void assertBadInput(CliTest.Result r, String expected) {
    assertEquals(Main.EXIT_BAD_INPUT, r.code(), r.out() + r.err());
    String err = r.err().strip();
    assertTrue(err.startsWith("scoreflow: error: "), err);
    assertTrue(err.contains(expected), err);
    assertEquals(1, err.lines().count(), err);
  }

  private Path features(String name, double[] x, int rows, int cols) throws Exception {
    Path file = dir.resolve(name);
    try (NDManager m = NDManager.newBaseManager()) {
      Map<String, NDArray> t = new LinkedHashMap<>();
      t.put("features", m.create(x, new Shape(rows, cols)));
      Weights.write(t, file);
    }
    return file;
  }

  private static double[] gaussian(Random random, int n, int d, double shift, double scale) {
    double[] x = new double[n * d];
    for (int k = 0; k < x.length; k++) {
      x[k] = shift + scale * random.nextGaussian();
    }
    return x;
  }

  private static Set<String> keys(JsonNode node) {
    Set<String> keys = new TreeSet<>();
    node.fieldNames().forEachRemaining(keys::add);
    return keys;
  }
}
