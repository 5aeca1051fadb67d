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
import io.scoreflow.model.Weights;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Features and statistics files: round trips and one-line errors that name the file. */
class StatsFilesTest {

  @TempDir Path dir;

  @Test
  void statisticsRoundTripExactlyAsFloat64() throws Exception {
    GaussianStats s = new FdReference.Spec(31, 50, 6, 1.0, 1.0).fit();
    Path file = dir.resolve("ref.safetensors");
    StatsFiles.save(s, file, DataType.FLOAT64);
    GaussianStats back = StatsFiles.load(file);
    assertArrayEquals(s.mean(), back.mean(), 0);
    assertArrayEquals(s.covariance().getData(), back.covariance().getData(), 0);
    assertEquals(OptionalLong.of(50), back.samples());
    assertEquals(0, FrechetDistance.between(s, back), 1e-12); // round-off of FD(s, s) only
  }

  @Test
  void statisticsRoundTripAsFloat32WithinItsPrecision() throws Exception {
    GaussianStats s = new FdReference.Spec(32, 50, 6, 1.0, 1.0).fit();
    Path file = dir.resolve("ref32.safetensors");
    StatsFiles.save(s, file, DataType.FLOAT32);
    GaussianStats back = StatsFiles.load(file);
    assertArrayEquals(s.mean(), back.mean(), 1e-6);
    assertArrayEquals(s.covariance().getData(), back.covariance().getData(), 1e-6);
  }

  @Test
  void statisticsWithoutACountLoadWithAnUnknownCount() throws Exception {
    Path file =
        write(
            "pytorch-fid-like.safetensors",
            m ->
                Map.of(
                    "mu", m.create(new double[] {1, 2}),
                    "sigma", m.create(new double[] {2, 1, 1, 2}, new Shape(2, 2))));
    GaussianStats s = StatsFiles.load(file);
    assertEquals(OptionalLong.empty(), s.samples());
    assertEquals(2.0, s.covariance().get(1, 1));
  }

  @Test
  void aFeaturesFileIsFitted() throws Exception {
    FdReference.Spec spec = new FdReference.Spec(33, 40, 3, 0.0, 1.0);
    double[] x = spec.features();
    Path file =
        write("features.safetensors", m -> Map.of("features", m.create(x, new Shape(40, 3))));
    GaussianStats loaded = StatsFiles.load(file);
    GaussianStats direct = GaussianStats.fit(x, 40, 3);
    assertArrayEquals(direct.mean(), loaded.mean(), 0);
    assertArrayEquals(direct.covariance().getData(), loaded.covariance().getData(), 0);
    assertEquals(OptionalLong.of(40), loaded.samples());
  }

  @Test
  void missingFileIsNamed() {
    assertError(dir.resolve("nope.safetensors"), "no such file");
  }

  @Test
  void fileWithoutFeaturesListsWhatItHas() throws Exception {
    Path file = write("other.safetensors", m -> Map.of("images", m.zeros(new Shape(2, 2))));
    String message = assertError(file, "holds no tensor 'features'");
    assertTrue(message.contains("[images]"), message);
  }

  @Test
  void bothFeaturesAndStatisticsIsAmbiguous() throws Exception {
    Path file =
        write(
            "both.safetensors",
            m -> Map.of("features", m.zeros(new Shape(3, 2)), "mu", m.zeros(new Shape(2))));
    assertError(file, "holds both");
  }

  @Test
  void halfOfTheStatisticsIsAnError() throws Exception {
    Path file = write("half.safetensors", m -> Map.of("mu", m.zeros(new Shape(2))));
    assertError(file, "has 'mu' but no 'sigma'");
  }

  @Test
  void statisticsOfMismatchedShapeAreAnError() throws Exception {
    Path file =
        write(
            "shape.safetensors",
            m -> Map.of("mu", m.zeros(new Shape(3)), "sigma", m.zeros(new Shape(2, 2))));
    assertError(file, "must be (3, 3)");
  }

  @Test
  void nonFiniteStatisticsAreAnError() throws Exception {
    Path file =
        write(
            "nan.safetensors",
            m ->
                Map.of(
                    "mu",
                    m.create(new double[] {0, Double.NaN}),
                    "sigma",
                    m.create(new double[] {1, 0, 0, 1}, new Shape(2, 2))));
    assertError(file, "'mu' holds a non-finite value");
  }

  @Test
  void featuresWithOneRowOrNonFiniteValuesAreErrors() throws Exception {
    Path one = write("one.safetensors", m -> Map.of("features", m.zeros(new Shape(1, 4))));
    assertError(one, "at least 2 samples");
    Path inf =
        write(
            "inf.safetensors",
            m ->
                Map.of(
                    "features",
                    m.create(new float[] {0, 1, 2, Float.POSITIVE_INFINITY}, new Shape(2, 2))));
    assertError(inf, "non-finite value");
  }

  @Test
  void aFileThatIsNotSafetensorsIsAnError() throws Exception {
    Path file = dir.resolve("junk.safetensors");
    Files.writeString(file, "this is not a tensor file at all, just some words");
    assertError(file, "");
  }

  private String assertError(Path file, String expected) {
    InvalidInputException e =
        assertThrows(InvalidInputException.class, () -> StatsFiles.load(file));
    String message = e.getMessage();
    assertTrue(message.contains(file.toString()), "names the file: " + message);
    assertTrue(message.contains(expected), message);
    assertTrue(!message.contains("\n"), "one line: " + message);
    return message;
  }

  private Path write(String name, Function<NDManager, Map<String, NDArray>> tensors)
      throws Exception {
    Path file = dir.resolve(name);
    try (NDManager m = NDManager.newBaseManager()) {
      Weights.write(new LinkedHashMap<>(tensors.apply(m)), file);
    }
    return file;
  }
}
