package io.scoreflow.eval;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.ParameterStore;
import com.typesafe.config.Config;
import io.scoreflow.data.Dataset;
import io.scoreflow.data.SampleShape;
import io.scoreflow.math.KeyedRandom;
import io.scoreflow.sample.NetworkScore;
import io.scoreflow.sample.Sampler;
import io.scoreflow.theory.GaussianLaw;
import io.scoreflow.train.FlatParameters;
import io.scoreflow.train.Trainer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Sample quality measured during training, from the EMA weights: for synthetic Gaussian data the W2
 * between the Gaussian fit of the samples and the data's law; for images the Fréchet distance in
 * the {@link PooledPixels} fallback space to statistics of the training data (cached in the run
 * directory). The trainer's parameters are put back afterwards and its generator is reseeded at
 * every step, so evaluating never changes training.
 */
public final class TrainingEvaluation {

  /** What an evaluation measured. */
  public enum Kind {
    W2,
    FALLBACK_FD
  }

  public record Result(Kind kind, double value, int samples, double seconds) {}

  private final Kind kind;
  private final Sampler sampler;
  private final int count;
  private final long seed;
  private final GaussianLaw law;
  private final GaussianStats reference;

  private TrainingEvaluation(
      Kind kind, Sampler sampler, int count, long seed, GaussianLaw law, GaussianStats reference) {
    this.kind = kind;
    this.sampler = sampler;
    this.count = count;
    this.seed = seed;
    this.law = law;
    this.reference = reference;
  }

  /**
   * The evaluation {@code scoreflow.eval} asks for, or null when it is off ({@code every = 0}). For
   * images the reference statistics are read from, or computed once into, {@code runDir/eval}.
   */
  public static TrainingEvaluation of(
      Config config, Trainer trainer, Dataset dataset, Path runDir) {
    Config eval = config.getConfig("scoreflow.eval");
    if (eval.getInt("every") <= 0) {
      return null;
    }
    Sampler sampler =
        Sampler.of(
            eval.getString("sampler"),
            trainer.objective().sde(),
            eval.getInt("steps"),
            config.getConfig("scoreflow.sample"));
    int count = eval.getInt("samples");
    long seed = config.getLong("scoreflow.train.seed");
    if (config.getString("scoreflow.data.source").equals("gaussian")) {
      Config g = config.getConfig("scoreflow.data.gaussian");
      GaussianLaw law = new GaussianLaw(g.getDouble("mean"), g.getDouble("std"), g.getInt("dim"));
      return new TrainingEvaluation(Kind.W2, sampler, count, seed, law, null);
    }
    if (!(dataset.shape() instanceof SampleShape.Image image)) {
      return null;
    }
    Path cached = runDir.resolve("eval").resolve("reference-" + PooledPixels.NAME + ".safetensors");
    GaussianStats reference;
    if (Files.isRegularFile(cached)) {
      reference = StatsFiles.load(cached);
    } else {
      reference = referenceStats(dataset, image, eval.getInt("reference-samples"));
      try {
        Files.createDirectories(cached.getParent());
        StatsFiles.save(reference, cached, DataType.FLOAT64);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot cache reference statistics in " + cached, e);
      }
    }
    return new TrainingEvaluation(Kind.FALLBACK_FD, sampler, count, seed, null, reference);
  }

  /** Features of up to {@code n} training images, spread evenly over the dataset. */
  private static GaussianStats referenceStats(Dataset dataset, SampleShape.Image shape, int n) {
    int count = Math.min(n, dataset.size());
    float[] images = new float[count * shape.size()];
    for (int i = 0; i < count; i++) {
      dataset.read((int) ((long) i * dataset.size() / count), images, i * shape.size());
    }
    return GaussianStats.fit(
        PooledPixels.features(images, shape, count), count, PooledPixels.dimension(shape));
  }

  /** Samples from the EMA weights and measures them. */
  public Result evaluate(Trainer trainer) {
    long start = System.nanoTime();
    FlatParameters flat = trainer.parameters();
    SampleShape shape = trainer.stream().dataset().shape();
    double value;
    try (NDManager scope = trainer.ema().shadow().getManager().newSubManager()) {
      NDArray saved = flat.values(scope);
      flat.assign(trainer.ema().shadow());
      try {
        Engine.getInstance().setRandomSeed((int) KeyedRandom.hash(seed, trainer.step(), 0x45564cL));
        NetworkScore score =
            new NetworkScore(
                trainer.network(),
                trainer.objective().parametrisation(),
                trainer.objective().sde(),
                new ParameterStore(scope, false));
        NDArray y = sampler.sample(score, shape.batchShape(count), DataType.FLOAT32, scope);
        trainer.scaler().inverse(y);
        if (kind == Kind.W2) {
          value = GaussianStats.fit(y).w2(law.stats());
        } else {
          SampleShape.Image image = (SampleShape.Image) shape;
          double[] features = PooledPixels.features(y.toFloatArray(), image, count);
          value =
              GaussianStats.fit(features, count, PooledPixels.dimension(image))
                  .frechetDistance(reference);
        }
      } finally {
        flat.assign(saved);
      }
    }
    return new Result(kind, value, count, (System.nanoTime() - start) / 1e9);
  }
}
