package io.scoreflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import io.scoreflow.eval.FrechetDistance;
import io.scoreflow.eval.GaussianStats;
import io.scoreflow.model.Weights;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code scoreflow eval fd} and {@code eval stats} as a user sees them. */
class EvalCliTest {

  @TempDir Path dir;

  @Test
  void fdJsonHasTheDocumentedKeysAndTheDistance() throws Exception {
    double[] xa = gaussian(new Random(1), 60, 4, 0.0, 1.0);
    double[] xb = gaussian(new Random(2), 40, 4, 0.5, 2.0);
    Path a = features("a.safetensors", xa, 60, 4);
    Path b = features("b.safetensors", xb, 40, 4);
    CliTest.Result r =
        CliTest.run("eval", "fd", "--a", a.toString(), "--b", b.toString(), "--json");
    assertEquals(0, r.code(), r.err());
    JsonNode json = r.json();
    assertEquals(Set.of("fd", "dim", "a", "b", "samples_a", "samples_b"), keys(json));
    double expected =
        FrechetDistance.between(GaussianStats.fit(xa, 60, 4), GaussianStats.fit(xb, 40, 4));
    assertEquals(expected, json.get("fd").asDouble(), 1e-12 * expected);
    assertEquals(4, json.get("dim").asInt());
    assertEquals(60, json.get("samples_a").asLong());
    assertEquals(40, json.get("samples_b").asLong());
    assertEquals(a.toString(), json.get("a").asText());
  }

  @Test
  void fdTextNamesTheFilesAndTheDistance() throws Exception {
    Path a = features("a.safetensors", gaussian(new Random(3), 10, 2, 0, 1), 10, 2);
    CliTest.Result r = CliTest.run("eval", "fd", "--a", a.toString(), "--b", a.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("10 samples"), r.out());
    assertTrue(r.out().contains("FD "), r.out());
  }

  @Test
  void cachedStatisticsGiveTheSameDistance() throws Exception {
    Path a = features("a.safetensors", gaussian(new Random(4), 80, 5, 0, 1), 80, 5);
    Path b = features("b.safetensors", gaussian(new Random(5), 50, 5, 1, 1), 50, 5);
    Path stats = dir.resolve("cache/a-stats.safetensors");
    CliTest.Result s =
        CliTest.run(
            "eval", "stats", "--features", a.toString(), "--out", stats.toString(), "--json");
    assertEquals(0, s.code(), s.err());
    assertEquals(Set.of("out", "dim", "samples", "dtype"), keys(s.json()));
    double direct = fd(a, b).get("fd").asDouble();
    JsonNode cached = fd(stats, b);
    assertEquals(direct, cached.get("fd").asDouble(), 1e-12 * direct);
    assertEquals(80, cached.get("samples_a").asLong());
  }

  @Test
  void statisticsWithoutACountGiveNullSamples() throws Exception {
    Path stats;
    try (NDManager m = NDManager.newBaseManager()) {
      Map<String, NDArray> t = new LinkedHashMap<>();
      t.put("mu", m.create(new double[] {0, 0}));
      t.put("sigma", m.create(new double[] {1, 0, 0, 1}, new Shape(2, 2)));
      stats = dir.resolve("fid-stats.safetensors");
      Weights.write(t, stats);
    }
    Path b = features("b.safetensors", gaussian(new Random(6), 30, 2, 0, 1), 30, 2);
    JsonNode json = fd(stats, b);
    assertTrue(json.get("samples_a").isNull(), json.toString());
  }

  @Test
  void missingFileIsOneLineNamingIt() {
    CliTest.Result r =
        CliTest.run("eval", "fd", "--a", dir.resolve("nope.safetensors").toString(), "--b", "x");
    assertBadInput(r, "nope.safetensors");
  }

  @Test
  void fileWithoutFeaturesIsOneLineNamingIt() throws Exception {
    Path other;
    try (NDManager m = NDManager.newBaseManager()) {
      other = dir.resolve("images.safetensors");
      Weights.write(new LinkedHashMap<>(Map.of("images", m.zeros(new Shape(3, 2)))), other);
    }
    Path b = features("b.safetensors", new double[4], 2, 2);
    CliTest.Result r = CliTest.run("eval", "fd", "--a", b.toString(), "--b", other.toString());
    assertBadInput(r, "images.safetensors holds no tensor 'features'");
  }

  @Test
  void mismatchedDimensionsNameBothFiles() throws Exception {
    Path a = features("a.safetensors", gaussian(new Random(7), 5, 3, 0, 1), 5, 3);
    Path b = features("b.safetensors", gaussian(new Random(8), 5, 2, 0, 1), 5, 2);
    CliTest.Result r = CliTest.run("eval", "fd", "--a", a.toString(), "--b", b.toString());
    assertBadInput(r, a + " has 3 feature dimensions but " + b + " has 2");
  }

  @Test
  void oneRowAndNonFiniteValuesAreOneLine() throws Exception {
    Path one = features("one.safetensors", new double[3], 1, 3);
    Path ok = features("ok.safetensors", gaussian(new Random(9), 5, 3, 0, 1), 5, 3);
    assertBadInput(
        CliTest.run("eval", "fd", "--a", ok.toString(), "--b", one.toString()),
        "one.safetensors: a covariance needs at least 2 samples");
    double[] x = gaussian(new Random(10), 5, 3, 0, 1);
    x[7] = Double.NaN;
    Path nan = features("nan.safetensors", x, 5, 3);
    assertBadInput(
        CliTest.run("eval", "fd", "--a", nan.toString(), "--b", ok.toString()),
        "nan.safetensors: features hold a non-finite value (NaN or infinity) in row 2");
  }

  @Test
  void missingOptionIsAParameterError() {
    CliTest.Result r = CliTest.run("eval", "fd", "--a", "x.safetensors");
    assertEquals(Main.EXIT_BAD_INPUT, r.code());
    assertTrue(r.err().contains("--b"), r.err());
  }

  private static void assertBadInput(CliTest.Result r, String expected) {
    assertEquals(Main.EXIT_BAD_INPUT, r.code(), r.out() + r.err());
    String err = r.err().strip();
    assertTrue(err.startsWith("scoreflow: error: "), err);
    assertTrue(err.contains(expected), err);
    assertEquals(1, err.lines().count(), err);
  }

  private static JsonNode fd(Path a, Path b) throws Exception {
    CliTest.Result r =
        CliTest.run("eval", "fd", "--a", a.toString(), "--b", b.toString(), "--json");
    assertEquals(0, r.code(), r.err());
    return r.json();
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
