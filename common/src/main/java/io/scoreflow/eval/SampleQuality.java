package io.scoreflow.eval;

import ai.djl.ndarray.types.DataType;
import com.typesafe.config.Config;
import io.scoreflow.data.Dataset;
import io.scoreflow.data.SampleShape;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * How good a set of samples is, measured against a run's data the one way that fits the data: for
 * synthetic Gaussian data the W2 between the samples' Gaussian fit and the data's law; for images
 * the Fréchet distance of Gaussian fits of features: FID with the Inception Score when {@code
 * scoreflow.eval.inception} names the Inception-v3 TorchScript file ({@link InceptionNet}), else in
 * the {@link PooledPixels} fallback space (reported as {@link Kind#FALLBACK_FD}, never as FID). The
 * reference statistics of a feature space are computed once per dataset and cached as {@code
 * CACHE/reference-SPACE.safetensors}.
 *
 * <p>Used by the single-process training loop ({@link TrainingEvaluation}) and by the cluster's
 * evaluator actor alike, so both report the same number for the same samples.
 */
public final class SampleQuality {

  /** What a measurement is. */
  public enum Kind {
    /** W2 between Gaussian fits, for synthetic Gaussian data. */
    W2,
    /** Fréchet distance in the pooled-pixel fallback space: not FID. */
    FALLBACK_FD,
    /** Fréchet distance of Inception-v3 pool features: FID. */
    FID
  }

  /**
   * One measurement of {@code samples} samples; {@code inceptionScore} is NaN unless the kind is
   * {@link Kind#FID}.
   */
  public record Measurement(Kind kind, double value, int samples, double inceptionScore) {}

  private static final int IS_SPLITS = 10;
  private static final int INCEPTION_BATCH = 50;

  private final Kind kind;
  private final SampleShape shape;
  private final GaussianStats law;
  private final Supplier<GaussianStats> reference;
  private final InceptionNet inception;

  private SampleQuality(
      Kind kind,
      SampleShape shape,
      GaussianStats law,
      Supplier<GaussianStats> reference,
      InceptionNet inception) {
    this.kind = kind;
    this.shape = shape;
    this.law = law;
    this.reference = reference;
    this.inception = inception;
  }

  /**
   * The measure for the data of {@code config} ({@code scoreflow.data}), or null when the data has
   * none (vector data that is not Gaussian). The image reference is read from, or computed into,
   * {@code cacheDir} the first time it is needed, from up to {@code
   * scoreflow.eval.reference-samples} images of {@code dataset} (opened only then).
   */
  public static SampleQuality of(Config config, Supplier<Dataset> dataset, Path cacheDir) {
    if (config.getString("scoreflow.data.source").equals("gaussian")) {
      Config g = config.getConfig("scoreflow.data.gaussian");
      GaussianStats law =
          GaussianStats.isotropic(g.getDouble("mean"), g.getDouble("std"), g.getInt("dim"));
      return new SampleQuality(Kind.W2, null, law, null, null);
    }
    SampleShape shape = io.scoreflow.run.TrainSetup.sampleShape(config);
    if (!(shape instanceof SampleShape.Image image)) {
      return null;
    }
    int n = config.getInt("scoreflow.eval.reference-samples");
    String inceptionFile = config.getString("scoreflow.eval.inception");
    if (!inceptionFile.isEmpty()) {
      InceptionNet net =
          InceptionNet.load(
              Path.of(inceptionFile), ai.djl.engine.Engine.getInstance().defaultDevice());
      Path cached = cacheDir.resolve("reference-" + InceptionNet.NAME + ".safetensors");
      Features features = (x, count) -> net.run(x, image, count, INCEPTION_BATCH).features();
      return new SampleQuality(
          Kind.FID,
          shape,
          null,
          memoize(() -> reference(cached, dataset, image, n, features)),
          net);
    }
    Path cached = cacheDir.resolve("reference-" + PooledPixels.NAME + ".safetensors");
    Features pooled = (x, count) -> PooledPixels.features(x, image, count);
    return new SampleQuality(
        Kind.FALLBACK_FD,
        shape,
        null,
        memoize(() -> reference(cached, dataset, image, n, pooled)),
        null);
  }

  /** Image features, row-major N × dimension. */
  private interface Features {
    double[] of(float[] images, int count);
  }

  public Kind kind() {
    return kind;
  }

  /** Measures {@code count} samples (row-major, in the data's range). */
  public Measurement measure(float[] samples, int count) {
    if (kind == Kind.W2) {
      int dim = law.dim();
      double[] x = new double[count * dim];
      for (int i = 0; i < x.length; i++) {
        x[i] = samples[i];
      }
      return new Measurement(kind, GaussianStats.fit(x, count, dim).w2(law), count, Double.NaN);
    }
    SampleShape.Image image = (SampleShape.Image) shape;
    if (kind == Kind.FID) {
      InceptionNet.Outputs out = inception.run(samples, image, count, INCEPTION_BATCH);
      double fid =
          GaussianStats.fit(out.features(), count, out.dim()).frechetDistance(reference.get());
      double is =
          InceptionNet.inceptionScore(
              out.probabilities(), count, out.classes(), Math.min(IS_SPLITS, count));
      return new Measurement(kind, fid, count, is);
    }
    double[] features = PooledPixels.features(samples, image, count);
    double fd =
        GaussianStats.fit(features, count, PooledPixels.dimension(image))
            .frechetDistance(reference.get());
    return new Measurement(kind, fd, count, Double.NaN);
  }

  private static GaussianStats reference(
      Path cached, Supplier<Dataset> datasets, SampleShape.Image shape, int n, Features features) {
    if (Files.isRegularFile(cached)) {
      return StatsFiles.load(cached);
    }
    Dataset dataset = datasets.get();
    int count = Math.min(n, dataset.size());
    float[] images = new float[count * shape.size()];
    for (int i = 0; i < count; i++) {
      // Spread evenly over the dataset, so a sorted dataset still gives every class.
      dataset.read((int) ((long) i * dataset.size() / count), images, i * shape.size());
    }
    double[] f = features.of(images, count);
    GaussianStats stats = GaussianStats.fit(f, count, f.length / count);
    try {
      Files.createDirectories(cached.getParent());
      Path tmp = cached.resolveSibling(cached.getFileName() + ".tmp");
      StatsFiles.save(stats, tmp, DataType.FLOAT64);
      Files.move(
          tmp,
          cached,
          java.nio.file.StandardCopyOption.ATOMIC_MOVE,
          java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot cache reference statistics in " + cached, e);
    }
    return stats;
  }

  private static <T> Supplier<T> memoize(Supplier<T> s) {
    return new Supplier<>() {
      private T value;

      @Override
      public synchronized T get() {
        if (value == null) {
          value = s.get();
        }
        return value;
      }
    };
  }
}
