package io.scoreflow.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
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
   * One measurement of {@code samples} samples; {@code inceptionScore} and {@code kid} (the Kernel
   * Inception Distance to the reference features, {@link KernelInceptionDistance}) are NaN unless
   * the kind is {@link Kind#FID}.
   */
  public record Measurement(
      Kind kind, double value, int samples, double inceptionScore, double kid) {}

  private static final int IS_SPLITS = 10;
  private static final int INCEPTION_BATCH = 50;

  private final Kind kind;
  private final SampleShape shape;
  private final GaussianStats law;
  private final Supplier<GaussianStats> reference;
  private final InceptionNet inception;
  private final Supplier<ReferenceFeatures> referenceFeatures;

  /** The reference's raw features, row-major {@code rows × dim}, which KID needs. */
  private record ReferenceFeatures(float[] rows, int count, int dim) {}

  private SampleQuality(
      Kind kind,
      SampleShape shape,
      GaussianStats law,
      Supplier<GaussianStats> reference,
      InceptionNet inception,
      Supplier<ReferenceFeatures> referenceFeatures) {
    this.kind = kind;
    this.shape = shape;
    this.law = law;
    this.reference = reference;
    this.inception = inception;
    this.referenceFeatures = referenceFeatures;
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
      return new SampleQuality(Kind.W2, null, law, null, null, null);
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
      Path cachedFeatures =
          cacheDir.resolve("reference-" + InceptionNet.NAME + "-features.safetensors");
      Supplier<ReferenceFeatures> raw =
          memoize(() -> referenceFeatures(cachedFeatures, dataset, image, n, features));
      return new SampleQuality(
          Kind.FID,
          shape,
          null,
          memoize(() -> reference(cached, dataset, image, n, features)),
          net,
          raw);
    }
    Path cached = cacheDir.resolve("reference-" + PooledPixels.NAME + ".safetensors");
    Features pooled = (x, count) -> PooledPixels.features(x, image, count);
    return new SampleQuality(
        Kind.FALLBACK_FD,
        shape,
        null,
        memoize(() -> reference(cached, dataset, image, n, pooled)),
        null,
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
      return new Measurement(
          kind, GaussianStats.fit(x, count, dim).w2(law), count, Double.NaN, Double.NaN);
    }
    SampleShape.Image image = (SampleShape.Image) shape;
    if (kind == Kind.FID) {
      InceptionNet.Outputs out = inception.run(samples, image, count, INCEPTION_BATCH);
      double fid =
          GaussianStats.fit(out.features(), count, out.dim()).frechetDistance(reference.get());
      double is =
          InceptionNet.inceptionScore(
              out.probabilities(), count, out.classes(), Math.min(IS_SPLITS, count));
      return new Measurement(kind, fid, count, is, kid(out.features(), count, out.dim()));
    }
    double[] features = PooledPixels.features(samples, image, count);
    double fd =
        GaussianStats.fit(features, count, PooledPixels.dimension(image))
            .frechetDistance(reference.get());
    return new Measurement(kind, fd, count, Double.NaN, Double.NaN);
  }

  /**
   * KID of the samples' features against the reference features, with clean-fid's defaults (M =
   * 1000, capped at the smaller set, K = 100) and seed 0, so that every evaluation of a run draws
   * its subsets alike.
   */
  private double kid(double[] features, int count, int dim) {
    ReferenceFeatures ref = referenceFeatures.get();
    try (NDManager manager = NDManager.newBaseManager()) {
      return KernelInceptionDistance.between(
              manager.create(features, new Shape(count, dim)),
              manager.create(ref.rows(), new Shape(ref.count(), ref.dim())),
              KernelInceptionDistance.DEFAULT_SUBSET_SIZE,
              KernelInceptionDistance.DEFAULT_SUBSETS,
              0,
              k -> {})
          .kid();
    }
  }

  /**
   * The reference images' raw features (float32), from {@code cached} or else computed from the
   * same images as the statistics and cached there: the statistics alone cannot give KID.
   */
  private static ReferenceFeatures referenceFeatures(
      Path cached, Supplier<Dataset> datasets, SampleShape.Image shape, int n, Features features) {
    if (Files.isRegularFile(cached)) {
      try (NDManager manager = NDManager.newBaseManager()) {
        NDArray f = StatsFiles.features(cached, manager);
        return new ReferenceFeatures(
            f.toType(DataType.FLOAT32, false).toFloatArray(),
            (int) f.getShape().get(0),
            (int) f.getShape().get(1));
      }
    }
    double[] f = referenceImageFeatures(datasets, shape, n, features);
    int count = Math.min(n, datasets.get().size());
    int dim = f.length / count;
    float[] rows = new float[f.length];
    for (int i = 0; i < f.length; i++) {
      rows[i] = (float) f[i];
    }
    try (NDManager manager = NDManager.newBaseManager()) {
      Files.createDirectories(cached.getParent());
      Path tmp = cached.resolveSibling(cached.getFileName() + ".tmp");
      io.scoreflow.model.Weights.write(
          new java.util.LinkedHashMap<>(
              java.util.Map.of(StatsFiles.FEATURES, manager.create(rows, new Shape(count, dim)))),
          tmp);
      Files.move(
          tmp,
          cached,
          java.nio.file.StandardCopyOption.ATOMIC_MOVE,
          java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot cache reference features in " + cached, e);
    }
    return new ReferenceFeatures(rows, count, dim);
  }

  private static GaussianStats reference(
      Path cached, Supplier<Dataset> datasets, SampleShape.Image shape, int n, Features features) {
    if (Files.isRegularFile(cached)) {
      return StatsFiles.load(cached);
    }
    double[] f = referenceImageFeatures(datasets, shape, n, features);
    int count = Math.min(n, datasets.get().size());
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

  /** The features of up to n images spread evenly over the dataset. */
  private static double[] referenceImageFeatures(
      Supplier<Dataset> datasets, SampleShape.Image shape, int n, Features features) {
    Dataset dataset = datasets.get();
    int count = Math.min(n, dataset.size());
    float[] images = new float[count * shape.size()];
    for (int i = 0; i < count; i++) {
      // Spread evenly over the dataset, so a sorted dataset still gives every class.
      dataset.read((int) ((long) i * dataset.size() / count), images, i * shape.size());
    }
    return features.of(images, count);
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
