package io.scoreflow.theory;

import static io.scoreflow.InvalidInputException.require;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import io.scoreflow.data.BatchStream;
import io.scoreflow.data.GaussianData;
import io.scoreflow.eval.GaussianStats;
import io.scoreflow.math.KeyedRandom;
import io.scoreflow.model.MlpConfig;
import io.scoreflow.model.MlpScoreNet;
import io.scoreflow.model.Nonlinearity;
import io.scoreflow.model.ScoreNetConfig.EmbeddingType;
import io.scoreflow.model.ScoreNetworks;
import io.scoreflow.run.Parametrisation;
import io.scoreflow.sample.NetworkScore;
import io.scoreflow.sample.PredictorCorrectorSampler;
import io.scoreflow.sde.ForwardSde;
import io.scoreflow.sde.Schedule;
import io.scoreflow.train.AdamOptions;
import io.scoreflow.train.DsmObjective;
import io.scoreflow.train.StepResult;
import io.scoreflow.train.Trainer;
import java.util.function.Consumer;

/**
 * The theory lab's bridge to learning: train the MLP score network by DSM on {@code N(m·1, s² I)},
 * sample with the paper's Euler–Maruyama scheme, and compare the W2 of the samples' Gaussian fit to
 * the data with the exact-score W2 of {@link SamplerRecursion}. The gap is what the learned score
 * (plus the finite sample) costs.
 */
public final class LearnedScore {

  /**
   * @param trainSteps DSM steps
   * @param samplerSteps Euler–Maruyama steps K
   * @param batchSize training batch
   * @param samples samples drawn to fit the output Gaussian
   * @param hidden width of the MLP's layers
   */
  public record Options(
      int trainSteps,
      int samplerSteps,
      int batchSize,
      int samples,
      int hidden,
      int layers,
      double learningRate,
      int warmup,
      double emaRate,
      long seed) {

    public Options {
      require(trainSteps >= 1, "--train-steps must be >= 1, got %s", trainSteps);
      require(samplerSteps >= 1, "--steps must be >= 1, got %s", samplerSteps);
      require(batchSize >= 1, "--batch must be >= 1, got %s", batchSize);
      require(samples >= 2, "--samples must be >= 2, got %s", samples);
      require(hidden >= 1 && layers >= 1, "--hidden and --layers must be >= 1");
    }
  }

  /**
   * @param w2Learned W2 between the Gaussian fit of the samples and the data
   * @param w2Exact the exact-score W2 of the same sampler (theory lab)
   * @param finalLoss the mean DSM loss over the last 10% of training
   */
  public record Result(
      double w2Learned,
      double w2Exact,
      GaussianStats fit,
      GaussianLaw exactLaw,
      double finalLoss,
      long trainMillis,
      long sampleMillis) {}

  private LearnedScore() {}

  public static Result run(
      ForwardSde sde, GaussianLaw data, Options o, Consumer<StepResult> progress) {
    int d = data.dim();
    boolean sigmaConditioned = sde.spec().schedule().family() == Schedule.Family.VE;
    // VE noise levels span orders of magnitude: condition on σ through Fourier features and let the
    // network predict score·σ (score_sde's NCSN++ recipe); VP: predict the noise (DDPM++'s).
    MlpConfig config =
        new MlpConfig(
            d,
            o.hidden(),
            o.layers(),
            32,
            sigmaConditioned ? EmbeddingType.FOURIER : EmbeddingType.POSITIONAL,
            16,
            sigmaConditioned,
            Nonlinearity.SWISH,
            o.seed());
    Parametrisation parametrisation =
        sigmaConditioned
            ? new Parametrisation.SigmaScaled()
            : new Parametrisation.NoisePrediction();
    // A dataset large enough that no batch repeats within the run: the data are i.i.d. draws.
    int size =
        (int)
            Math.min(
                Integer.MAX_VALUE - 8,
                Math.max((long) o.trainSteps() * o.batchSize(), o.batchSize()));
    GaussianData dataset =
        GaussianData.builder()
            .dimension(d)
            .mean(data.mean())
            .std(data.std())
            .seed(o.seed())
            .size(size)
            .build();
    try (NDManager manager = NDManager.newBaseManager()) {
      MlpScoreNet net = ScoreNetworks.build(config, manager);
      BatchStream stream =
          BatchStream.builder()
              .dataset(dataset)
              .globalBatchSize(o.batchSize())
              .seed(o.seed())
              .build();
      long start = System.nanoTime();
      double tail = 0;
      int tailCount = 0;
      try (Trainer trainer =
          Trainer.builder()
              .network(net)
              .objective(new DsmObjective(sde, parametrisation, 1e-5 * sde.horizon(), o.seed()))
              .stream(stream)
              .adam(new AdamOptions(o.learningRate(), 0.9, 0.999, 1e-8, o.warmup(), 1.0))
              .emaRate(o.emaRate())
              .seed(o.seed())
              .manager(manager)
              .build()) {
        for (int i = 0; i < o.trainSteps(); i++) {
          StepResult r = trainer.runStep();
          if (i >= o.trainSteps() - Math.max(1, o.trainSteps() / 10)) {
            tail += r.loss();
            tailCount++;
          }
          progress.accept(r);
        }
        long trained = System.nanoTime();
        try (NDManager scope = manager.newSubManager()) {
          trainer.parameters().assign(trainer.ema().shadow());
        }
        Engine.getInstance().setRandomSeed((int) KeyedRandom.hash(o.seed(), 0x53414d50L));
        GaussianStats fit;
        try (NDManager scope = manager.newSubManager()) {
          NetworkScore score =
              new NetworkScore(net, parametrisation, sde, new ParameterStore(scope, false));
          NDArray y =
              PredictorCorrectorSampler.eulerMaruyama(sde, o.samplerSteps())
                  .sample(score, new Shape(o.samples(), d), DataType.FLOAT32, scope);
          fit = GaussianStats.fit(y);
        }
        long sampled = System.nanoTime();
        GaussianLaw exact = SamplerRecursion.eulerMaruyama(sde, o.samplerSteps(), data);
        return new Result(
            fit.w2(data.stats()),
            exact.w2(data),
            fit,
            exact,
            tail / tailCount,
            (trained - start) / 1_000_000,
            (sampled - trained) / 1_000_000);
      }
    }
  }
}
