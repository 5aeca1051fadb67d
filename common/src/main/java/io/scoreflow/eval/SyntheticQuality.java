package io.scoreflow.eval;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import io.scoreflow.math.KeyedRandom;
import io.scoreflow.sample.NetworkScore;
import io.scoreflow.sample.Sampler;
import io.scoreflow.theory.GaussianLaw;
import io.scoreflow.train.FlatParameters;
import io.scoreflow.train.Trainer;

/**
 * Sample quality on synthetic Gaussian data during training: samples from the EMA weights, fits a
 * Gaussian, and returns its W2 to the data's law. The trainer's own parameters are put back
 * afterwards and its generator is reseeded at every step, so evaluating never changes training.
 */
public final class SyntheticQuality {

  private SyntheticQuality() {}

  /** W2 of {@code count} samples of {@code sampler} from the trainer's EMA weights. */
  public static double w2(
      Trainer trainer, GaussianLaw data, Sampler sampler, int count, long seed) {
    FlatParameters flat = trainer.parameters();
    NDManager base = trainer.ema().shadow().getManager();
    try (NDManager scope = base.newSubManager()) {
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
        NDArray y = sampler.sample(score, new Shape(count, data.dim()), DataType.FLOAT32, scope);
        return GaussianStats.fit(y).w2(data.stats());
      } finally {
        flat.assign(saved);
      }
    }
  }
}
