package io.scoreflow.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.scoreflow.InvalidInputException;
import io.scoreflow.files.InputFiles;
import io.scoreflow.model.Weights;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeSet;
import org.ejml.data.DMatrixRMaj;

/**
 * Safetensors files that feed the Fréchet distance. A file holds either raw features, a 2-D tensor
 * {@value #FEATURES} (rows = samples, columns = feature dimensions, any numeric type), or
 * precomputed statistics: {@value #MEAN} (shape {@code [d]}) and {@value #COVARIANCE} ({@code [d,
 * d]}), float64 or float32, with an optional int64 {@value #SAMPLES} (shape {@code []}) holding the
 * sample count. The names are pytorch-fid's, so its statistics convert with a two-line script.
 * Every error is an {@link InvalidInputException} whose message starts with the file's path.
 */
public final class StatsFiles {

  /** The tensor of raw features, rows = samples. */
  public static final String FEATURES = "features";

  /** The tensor of a precomputed mean. */
  public static final String MEAN = "mu";

  /** The tensor of a precomputed covariance. */
  public static final String COVARIANCE = "sigma";

  /** The optional scalar tensor of the sample count behind precomputed statistics. */
  public static final String SAMPLES = "samples";

  private StatsFiles() {}

  /**
   * The Gaussian fit of a features file, or the statistics of a statistics file.
   *
   * @throws InvalidInputException if the file is missing or unreadable, holds neither {@value
   *     #FEATURES} nor {@value #MEAN} and {@value #COVARIANCE} (or both kinds), or its tensors have
   *     the wrong shape or type, fewer than 2 rows, or non-finite values
   */
  public static GaussianStats load(Path path) {
    try (NDManager manager = NDManager.newBaseManager()) {
      Map<String, NDArray> tensors = Weights.read(manager, path);
      boolean features = tensors.containsKey(FEATURES);
      boolean stats = tensors.containsKey(MEAN) || tensors.containsKey(COVARIANCE);
      InvalidInputException.require(
          !(features && stats),
          "%s holds both '%s' and precomputed '%s'/'%s'; keep one or the other",
          path,
          FEATURES,
          MEAN,
          COVARIANCE);
      InvalidInputException.require(
          features || stats,
          "%s holds no tensor '%s' (nor precomputed '%s' and '%s'); it has %s",
          path,
          FEATURES,
          MEAN,
          COVARIANCE,
          names(tensors.keySet()));
      try {
        return features ? GaussianStats.fit(tensors.get(FEATURES)) : statistics(tensors);
      } catch (InvalidInputException | IllegalArgumentException e) {
        throw new InvalidInputException(path + ": " + e.getMessage(), e);
      }
    }
  }

  /**
   * The raw features of a features file as a float64 2-D array in {@code manager}, for measures
   * that need the points themselves (KID), not their Gaussian fit.
   *
   * @throws InvalidInputException if the file is missing or unreadable, holds precomputed
   *     statistics instead, or its {@value #FEATURES} is not a numeric 2-D array of at least 2
   *     finite rows
   */
  public static NDArray features(Path path, NDManager manager) {
    try (NDManager scope = manager.newSubManager()) {
      Map<String, NDArray> tensors = Weights.read(scope, path);
      NDArray f = tensors.get(FEATURES);
      if (f == null) {
        InvalidInputException.require(
            !tensors.containsKey(MEAN) && !tensors.containsKey(COVARIANCE),
            "%s holds precomputed '%s'/'%s' only: KID needs the raw features (tensor '%s')",
            path,
            MEAN,
            COVARIANCE,
            FEATURES);
        throw new InvalidInputException(
            String.format(
                java.util.Locale.ROOT,
                "%s holds no tensor '%s'; it has %s",
                path,
                FEATURES,
                names(tensors.keySet())));
      }
      InvalidInputException.require(
          f.getShape().dimension() == 2 && f.getShape().get(0) >= 2 && f.getShape().get(1) >= 1,
          "%s: '%s' must be a 2-D array of at least 2 rows (rows = samples), got shape %s",
          path,
          FEATURES,
          f.getShape());
      InvalidInputException.require(
          f.getDataType().isFloating() || f.getDataType().isInteger(),
          "%s: '%s' must be numeric, got %s",
          path,
          FEATURES,
          f.getDataType());
      NDArray x = f.toType(DataType.FLOAT64, true);
      InvalidInputException.require(
          !x.isNaN().logicalOr(x.isInfinite()).any().getBoolean(),
          "%s: '%s' holds a NaN or an infinity",
          path,
          FEATURES);
      x.attach(manager);
      return x;
    }
  }

  /**
   * Writes {@code stats} to {@code path} as {@value #MEAN}, {@value #COVARIANCE} (in {@code type},
   * float64 or float32) and, when known, {@value #SAMPLES}; through a temporary file in the same
   * directory and an atomic rename, so a reader never sees half a file.
   */
  public static void save(GaussianStats stats, Path path, DataType type) throws IOException {
    if (type != DataType.FLOAT64 && type != DataType.FLOAT32) {
      throw new IllegalArgumentException("statistics are saved as float64 or float32, not " + type);
    }
    io.scoreflow.files.AtomicFiles.write(
        path,
        tmp -> {
          try (NDManager manager = NDManager.newBaseManager()) {
            int d = stats.dim();
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            tensors.put(MEAN, manager.create(stats.mean(), new Shape(d)).toType(type, false));
            tensors.put(
                COVARIANCE,
                manager.create(stats.covariance().getData(), new Shape(d, d)).toType(type, false));
            if (stats.samples().isPresent()) {
              tensors.put(SAMPLES, manager.create(stats.samples().getAsLong()));
            }
            Weights.write(tensors, tmp);
          }
        });
  }

  /** The tensors a file has, for an error line: a few, quoted, however many there are. */
  private static String names(java.util.Set<String> names) {
    if (names.isEmpty()) {
      return "no tensors";
    }
    List<String> sorted = new ArrayList<>(new TreeSet<>(names));
    List<String> shown = new ArrayList<>();
    for (String name : sorted.subList(0, Math.min(8, sorted.size()))) {
      shown.add(
          name.length() <= 80 && name.chars().noneMatch(Character::isISOControl)
              ? name
              : InputFiles.quote(name));
    }
    return shown + (sorted.size() > 8 ? " and " + (sorted.size() - 8) + " more" : "");
  }

  private static GaussianStats statistics(Map<String, NDArray> tensors) {
    NDArray mu = tensors.get(MEAN);
    NDArray sigma = tensors.get(COVARIANCE);
    InvalidInputException.require(mu != null, "has '%s' but no '%s'", COVARIANCE, MEAN);
    InvalidInputException.require(sigma != null, "has '%s' but no '%s'", MEAN, COVARIANCE);
    InvalidInputException.require(
        mu.getShape().dimension() == 1, "'%s' must be 1-D, got shape %s", MEAN, mu.getShape());
    long d = mu.getShape().get(0);
    InvalidInputException.require(
        sigma.getShape().equals(new Shape(d, d)),
        "'%s' has shape %s but '%s' has length %d, so it must be (%d, %d)",
        COVARIANCE,
        sigma.getShape(),
        MEAN,
        d,
        d,
        d);
    InvalidInputException.require(d >= 1, "'%s' is empty", MEAN);
    InvalidInputException.require(
        d <= GaussianStats.MAX_DIM,
        "'%s' has %d dimensions: a d x d covariance allows at most %d",
        MEAN,
        d,
        GaussianStats.MAX_DIM);
    for (Map.Entry<String, NDArray> e : Map.of(MEAN, mu, COVARIANCE, sigma).entrySet()) {
      DataType type = e.getValue().getDataType();
      InvalidInputException.require(
          type.isFloating(), "'%s' is %s, not floating point", e.getKey(), type);
    }
    OptionalLong samples = OptionalLong.empty();
    NDArray n = tensors.get(SAMPLES);
    if (n != null) {
      InvalidInputException.require(
          n.getDataType().isInteger() && n.size() == 1,
          "'%s' must be one integer, got %s of shape %s",
          SAMPLES,
          n.getDataType(),
          n.getShape());
      samples = OptionalLong.of(n.toType(DataType.INT64, false).toLongArray()[0]);
    }
    int dim = (int) d;
    double[] mean = finite(MEAN, mu.toType(DataType.FLOAT64, false).toDoubleArray());
    double[] cov = finite(COVARIANCE, sigma.toType(DataType.FLOAT64, false).toDoubleArray());
    return new GaussianStats(mean, DMatrixRMaj.wrap(dim, dim, cov), samples);
  }

  private static double[] finite(String name, double[] values) {
    for (int i = 0; i < values.length; i++) {
      InvalidInputException.require(
          Double.isFinite(values[i]),
          "'%s' holds a non-finite value (%s) at flat index %d",
          name,
          values[i],
          i);
    }
    return values;
  }
}
