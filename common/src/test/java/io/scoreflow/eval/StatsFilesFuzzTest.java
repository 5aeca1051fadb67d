package io.scoreflow.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.scoreflow.files.Attempt;
import io.scoreflow.files.Corpus;
import io.scoreflow.files.InputFiles;
import io.scoreflow.files.Mutation;
import io.scoreflow.model.Weights;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Random;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.ejml.data.DMatrixRMaj;

/**
 * The files {@code eval fd} reads: statistics saved by {@link StatsFiles#save} and feature files
 * written by {@link Weights#write} load back exactly (features against {@link
 * GaussianStats#fit(double[], int, int)} on the same numbers); mutated ones load as statistics that
 * pass every check of {@link GaussianStats} or are refused in one line naming the file.
 */
class StatsFilesFuzzTest {
  private static Path dir;
  private static int cases;

  @BeforeContainer
  static void start() throws IOException {
    dir = Files.createTempDirectory("stats-fuzz");
    for (Path seed : Corpus.files("stats")) {
      try {
        StatsFiles.load(seed); // loads classes before anything is measured
      } catch (RuntimeException e) {
        // The bad seeds are refused; their replay below checks how.
      }
    }
  }

  @AfterContainer
  static void stop() throws IOException {
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /** Statistics with a covariance A Aᵀ + I/10, symmetric positive definite by construction. */
  record Stats(int dim, long seed, OptionalLong samples, boolean float32) {
    GaussianStats stats() {
      Random random = new Random(seed);
      double[] mean = random.doubles(dim, -3, 3).toArray();
      double[] a = random.doubles((long) dim * dim, -1, 1).toArray();
      double[] cov = new double[dim * dim];
      for (int i = 0; i < dim; i++) {
        for (int j = 0; j < dim; j++) {
          double s = i == j ? 0.1 : 0;
          for (int k = 0; k < dim; k++) {
            s += a[i * dim + k] * a[j * dim + k];
          }
          cov[i * dim + j] = s;
        }
      }
      return new GaussianStats(mean, DMatrixRMaj.wrap(dim, dim, cov), samples);
    }

    Path write() throws IOException {
      Path file = dir.resolve("stats-" + cases++ + ".safetensors");
      StatsFiles.save(stats(), file, float32 ? DataType.FLOAT32 : DataType.FLOAT64);
      return file;
    }
  }

  @Provide
  Arbitrary<Stats> statsFiles() {
    return Combinators.combine(
            Arbitraries.integers().between(1, 5),
            Arbitraries.longs(),
            Arbitraries.oneOf(
                Arbitraries.just(OptionalLong.empty()),
                Arbitraries.longs().between(2, Long.MAX_VALUE).map(OptionalLong::of)),
            Arbitraries.of(false, true))
        .as(Stats::new);
  }

  @Property
  void savedStatisticsLoadExactly(@ForAll("statsFiles") Stats spec) throws IOException {
    Path file = spec.write();
    Attempt<GaussianStats> a = Attempt.of(file, "", heapFor(file), () -> StatsFiles.load(file));
    assertNull(a.refusal(), () -> a.refusal().getMessage());
    GaussianStats expected = spec.stats();
    GaussianStats loaded = a.result();
    assertEquals(expected.samples(), loaded.samples());
    double[] mean = expected.mean();
    double[] cov = expected.covariance().getData();
    if (spec.float32()) { // stored as float32: the values are the nearest floats
      for (int i = 0; i < mean.length; i++) {
        mean[i] = (float) mean[i];
      }
      for (int i = 0; i < cov.length; i++) {
        cov[i] = (float) cov[i];
      }
    }
    assertArrayEquals(mean, loaded.mean(), 0);
    assertArrayEquals(cov, loaded.covariance().getData(), 0);
  }

  @Property
  void featureFilesLoadAsTheirFit(@ForAll("featureFiles") double[] x, @ForAll int cols)
      throws IOException {
    int d = 1 + Math.floorMod(cols, 3);
    int n = x.length / d;
    double[] features = java.util.Arrays.copyOf(x, n * d);
    Path file = dir.resolve("features-" + cases++ + ".safetensors");
    try (NDManager m = NDManager.newBaseManager()) {
      Weights.write(Map.of(StatsFiles.FEATURES, m.create(features, new Shape(n, d))), file);
    }
    GaussianStats loaded = StatsFiles.load(file);
    GaussianStats direct = GaussianStats.fit(features, n, d);
    assertArrayEquals(direct.mean(), loaded.mean(), 1e-9);
    assertArrayEquals(direct.covariance().getData(), loaded.covariance().getData(), 1e-9);
    assertEquals(OptionalLong.of(n), loaded.samples());
  }

  @Provide
  Arbitrary<double[]> featureFiles() {
    return Arbitraries.doubles().between(-10, 10).array(double[].class).ofMinSize(6).ofMaxSize(40);
  }

  @Property
  void mutatedStatisticsLoadValidOrAreRefusedInOneLine(
      @ForAll("statsFiles") Stats spec, @ForAll("mutations") List<Mutation> mutations)
      throws IOException {
    Path file = spec.write();
    Files.write(file, Mutation.applyAll(mutations, Files.readAllBytes(file)));
    // A statistics file that loads went through GaussianStats' checks (finite, symmetric,
    // variances >= 0, at least 2 samples): nothing else need be asserted of it.
    Attempt.of(file, "", heapFor(file), () -> StatsFiles.load(file));
  }

  @Provide
  Arbitrary<List<Mutation>> mutations() {
    return Mutation.some();
  }

  @Example
  void everySeedFileLoadsOrIsRefusedAsItsNameSays() {
    for (Path seed : Corpus.files("stats")) {
      Attempt<GaussianStats> a = Attempt.of(seed, "", heapFor(seed), () -> StatsFiles.load(seed));
      assertEquals(Corpus.valid(seed), a.loaded(), seed + ": " + a.refusal());
    }
  }

  /** An npz handed to {@code eval fd}: its zip signature read as a length is refused at once. */
  @Example
  void anNpzGivenAsStatisticsIsRefusedNamingTheHeaderLength() {
    Path seed =
        Corpus.files("stats").stream()
            .filter(p -> p.getFileName().toString().startsWith("bad-npz"))
            .findFirst()
            .orElseThrow();
    Attempt<?> a =
        Attempt.of(
            seed,
            ": not a readable safetensors file: header length ",
            1 << 20,
            () -> StatsFiles.load(seed));
    assertTrue(a.refusal().getMessage().contains("bytes after it"), a.toString());
  }

  private static long heapFor(Path file) {
    return 64 * InputFiles.size(file) + (4 << 20);
  }
}
