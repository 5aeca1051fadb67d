package io.scoreflow.bench;

import static io.scoreflow.InvalidInputException.require;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.scoreflow.data.BatchStream;
import io.scoreflow.data.GaussianData;
import io.scoreflow.data.SampleShape;
import io.scoreflow.model.ScoreNetConfig;
import io.scoreflow.model.ScoreNetwork;
import io.scoreflow.model.ScoreNetworks;
import io.scoreflow.run.DataScaler;
import io.scoreflow.run.Parametrisation;
import io.scoreflow.sde.ForwardSde;
import io.scoreflow.train.AdamOptions;
import io.scoreflow.train.DsmObjective;
import io.scoreflow.train.StepResult;
import io.scoreflow.train.Trainer;
import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * Times the real training step of a network (DSM draws, forward, backward, gradient gather,
 * clipping, Adam, EMA) on synthetic data of its input shape, after warm-up, as medians of repeats;
 * and, in the same run, the bare forward+backward of the network as the baseline, so that the ratio
 * shows what the trainer adds on top of the framework, independent of how fast the machine happens
 * to be.
 */
public final class StepBenchmark {

  public record Result(
      String arch,
      int nf,
      int batch,
      String device,
      long params,
      int warmup,
      int repeats,
      double stepMs,
      double computeMs,
      double optimizerMs,
      double imagesPerSecond,
      double baselineForwardBackwardMs,
      double stepOverBaseline) {}

  private StepBenchmark() {}

  public static Result run(
      ScoreNetConfig config,
      ForwardSde sde,
      int batch,
      int warmup,
      int repeats,
      Device device,
      IntConsumer progress) {
    require(batch >= 1, "--batch must be >= 1, got %s", batch);
    require(warmup >= 0 && repeats >= 1, "--warmup must be >= 0 and --repeats >= 1");
    SampleShape shape =
        SampleShape.image(config.channels(), config.imageSize(), config.imageSize());
    GaussianData data =
        GaussianData.builder().shape(shape).mean(0.5).std(0.25).seed(1).size(batch * 4).build();
    try (NDManager manager = NDManager.newBaseManager(device)) {
      ScoreNetwork net = ScoreNetworks.build(config, manager);
      boolean positional = config.embeddingType() == ScoreNetConfig.EmbeddingType.POSITIONAL;
      Parametrisation p =
          positional ? new Parametrisation.NoisePrediction() : new Parametrisation.SigmaScaled();
      double[] step = new double[repeats];
      double[] compute = new double[repeats];
      double[] optimizer = new double[repeats];
      try (Trainer trainer =
          Trainer.builder().network(net).objective(new DsmObjective(sde, p, 1e-5, 1)).stream(
                  BatchStream.builder().dataset(data).globalBatchSize(batch).seed(1).build())
              .scaler(config.centered() ? DataScaler.CENTERED : DataScaler.IDENTITY)
              .adam(AdamOptions.scoreSde())
              .emaRate(0.9999)
              .seed(1)
              .manager(manager)
              .build()) {
        for (int i = -warmup; i < repeats; i++) {
          StepResult r = trainer.runStep();
          if (i >= 0) {
            step[i] = r.totalNanos() / 1e6;
            compute[i] = r.computeNanos() / 1e6;
            optimizer[i] = r.optimizerNanos() / 1e6;
          }
          progress.accept(i + warmup + 1);
        }
      }
      ModelBenchmark.Result baseline =
          ModelBenchmark.run(net, config.name(), batch, Math.max(1, warmup / 2), repeats, manager);
      double median = median(step);
      return new Result(
          config.name(),
          config.nf(),
          batch,
          device.toString(),
          ScoreNetworks.parameterCount(net),
          warmup,
          repeats,
          median,
          median(compute),
          median(optimizer),
          batch / (median / 1000),
          baseline.trainStepMs(),
          median / baseline.trainStepMs());
    }
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    int n = s.length;
    return n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
  }
}
