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
import io.scoreflow.train.FlatParameters;
import io.scoreflow.train.Trainer;
import java.nio.file.Path;

/**
 * Sample quality measured during training, from the EMA weights, by {@link SampleQuality}: W2 for
 * synthetic Gaussian data, the Fréchet distance in the {@link PooledPixels} fallback space for
 * images (reference statistics cached in {@code RUN/eval}). The trainer's parameters are put back
 * afterwards and its generator is reseeded at every step, so evaluating never changes training.
 */
public final class TrainingEvaluation {

  /** What {@link #evaluate} measured; {@code inceptionScore} is NaN unless the kind is FID. */
  public record Result(
      SampleQuality.Kind kind,
      double value,
      double inceptionScore,
      double kid,
      int samples,
      double seconds) {}

  private final SampleQuality quality;
  private final Sampler sampler;
  private final int count;
  private final long seed;

  private TrainingEvaluation(SampleQuality quality, Sampler sampler, int count, long seed) {
    this.quality = quality;
    this.sampler = sampler;
    this.count = count;
    this.seed = seed;
  }

  /**
   * The evaluation {@code scoreflow.eval} asks for, or null when it is off ({@code every = 0}) or
   * the data has no measure.
   */
  public static TrainingEvaluation of(
      Config config, Trainer trainer, Dataset dataset, Path runDir) {
    Config eval = config.getConfig("scoreflow.eval");
    if (eval.getInt("every") <= 0) {
      return null;
    }
    SampleQuality quality = SampleQuality.of(config, () -> dataset, runDir.resolve("eval"));
    if (quality == null) {
      return null;
    }
    Sampler sampler =
        Sampler.of(
            eval.getString("sampler"),
            trainer.objective().sde(),
            eval.getInt("steps"),
            config.getConfig("scoreflow.sample"));
    return new TrainingEvaluation(
        quality, sampler, eval.getInt("samples"), config.getLong("scoreflow.train.seed"));
  }

  /** Samples from the EMA weights and measures them. */
  public Result evaluate(Trainer trainer) {
    long start = System.nanoTime();
    FlatParameters flat = trainer.parameters();
    SampleShape shape = trainer.stream().dataset().shape();
    SampleQuality.Measurement m;
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
        m = quality.measure(y.toFloatArray(), count);
      } finally {
        flat.assign(saved);
      }
    }
    return new Result(
        m.kind(), m.value(), m.inceptionScore(), m.kid(), count, (System.nanoTime() - start) / 1e9);
  }
}
