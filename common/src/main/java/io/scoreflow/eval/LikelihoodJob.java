package io.scoreflow.eval;

import static io.scoreflow.InvalidInputException.require;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.ParameterStore;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import io.scoreflow.InvalidInputException;
import io.scoreflow.data.Cifar10;
import io.scoreflow.data.Dataset;
import io.scoreflow.data.IdxImages;
import io.scoreflow.data.SampleShape;
import io.scoreflow.math.DormandPrince;
import io.scoreflow.math.GradMode;
import io.scoreflow.math.KeyedRandom;
import io.scoreflow.run.DataScaler;
import io.scoreflow.run.TrainSetup;
import io.scoreflow.sample.FlowLikelihood;
import io.scoreflow.sample.NetworkScore;
import io.scoreflow.sample.SampleJob;
import io.scoreflow.sample.ScoreFunction;
import io.scoreflow.sde.ForwardSde;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Bits per dimension of a dataset split under a run's checkpoint, as score_sde's {@code
 * likelihood.py} with its evaluation loop: each 8-bit image x is dequantised uniformly, {@code u =
 * (255 x + U[0,1)) / 256} in [0, 1), scaled as the run's data pipeline scales it ({@code y = 2u −
 * 1} for centred models, {@code y = u} otherwise), and its flow log-likelihood {@code log q_ε(y)}
 * computed by {@link FlowLikelihood} (Hutchinson, from ε = 1e-5 to T). Then
 *
 * <pre>
 *   −log p(u) = −log q_ε(y) − D·log(scale)      (the scaling's Jacobian)
 *   bpd       = −log p(u) / (D ln 2) + 8         (u's density in units of the 1/256 bins)
 * </pre>
 *
 * which is score_sde's {@code −(prior_logp + delta_logp) / (D ln 2) + 7 − inverse_scaler(−1)}. The
 * solver state is float64 (as score_sde's scipy state); the network sees float32.
 */
public final class LikelihoodJob {

  /** The stream of the dequantisation noise of image i: (seed, DEQUANTIZE, i). */
  static final long DEQUANTIZE = 0x4445_5155_414EL;

  /** The stream of batch b's Hutchinson probes: (seed, PROBES, b). */
  static final long PROBES = 0x5052_4F42_4553L;

  /**
   * What to measure. {@code step} null: the newest valid checkpoint. {@code count} null: the whole
   * split. {@code data} null: the run's {@code scoreflow.data.path}.
   */
  public record Request(
      Path run,
      Long step,
      String weights,
      String split,
      Integer count,
      int batch,
      FlowLikelihood.Trace trace,
      double rtol,
      double atol,
      long seed,
      Path data,
      Device device) {

    public Request {
      require(count == null || count >= 1, "--count must be >= 1, got %s", count);
      require(batch >= 1, "--batch must be >= 1, got %s", batch);
      require(
          weights.equals("ema") || weights.equals("model"),
          "--weights must be ema or model, got %s",
          weights);
      require(
          split.equals("test") || split.equals("train"),
          "--split must be test or train, got %s",
          split);
    }
  }

  /**
   * Mean bits/dim with its standard error over {@code count} images of {@code dataset}, and the
   * mean solver evaluations per batch.
   */
  public record Result(
      long checkpointStep,
      double bpd,
      double bpdStderr,
      int count,
      double nfeMean,
      String dataset,
      long millis,
      Optional<String> warning) {}

  /** Receives the images finished so far (fractions of a batch as its ODE advances) of total. */
  @FunctionalInterface
  public interface Listener {
    void update(int done, int total);
  }

  private LikelihoodJob() {}

  /** Runs the request; grad mode is off but for the divergence's vector–Jacobian products. */
  public static Result run(Request r, Listener progress) {
    return GradMode.off(() -> runWithoutGrad(r, progress));
  }

  private static Result runWithoutGrad(Request r, Listener progress) {
    Config config = SampleJob.runConfig(r.run());
    if (r.data() != null) {
      config =
          config.withValue(
              "scoreflow.data.path", ConfigValueFactory.fromAnyRef(r.data().toString()));
    }
    ForwardSde sde = TrainSetup.sde(config);
    SampleShape shape = TrainSetup.sampleShape(config);
    require(
        shape instanceof SampleShape.Image,
        "eval likelihood measures 8-bit images in bits/dim; %s trains on %s vectors",
        r.run(),
        shape);
    Dataset data = split(config, r.split());
    require(
        data.shape().equals(shape),
        "%s holds %s images, the run trains on %s",
        data.description(),
        data.shape(),
        shape);
    int count = r.count() == null ? data.size() : r.count();
    require(
        count <= data.size(),
        "--count %s exceeds the %s images of %s",
        count,
        data.size(),
        data.description());
    long start = System.nanoTime();
    FlowLikelihood flow =
        new FlowLikelihood(
            sde,
            r.trace(),
            DormandPrince.Options.of(r.rtol(), r.atol()),
            FlowLikelihood.DEFAULT_EPS,
            DataType.FLOAT32);
    try (NDManager manager = NDManager.newBaseManager(r.device())) {
      TrainSetup.Model model = TrainSetup.model(config, shape, sde, manager);
      SampleJob.Loaded checkpoint =
          SampleJob.loadWeights(
              r.run(), r.step(), r.weights(), model.network(), manager, "evaluate");
      // Only the input's gradient is wanted: parameters that required one would have theirs
      // computed (and accumulated) in every backward pass of the divergence.
      for (ai.djl.nn.Parameter p : model.network().stateDict().values()) {
        p.getArray().setRequiresGradient(false);
      }
      // The network computes in float32 (flow's compute type); the solver's state stays float64.
      ScoreFunction score =
          new NetworkScore(
              model.network(), model.parametrisation(), sde, new ParameterStore(manager, false));
      Measured m =
          bitsPerDim(
              score, flow, model.scaler(), data, count, r.batch(), r.seed(), manager, progress);
      return new Result(
          checkpoint.step(),
          m.bpd(),
          m.stderr(),
          count,
          m.nfeMean(),
          data.description(),
          (System.nanoTime() - start) / 1_000_000,
          checkpoint.warning());
    }
  }

  /** Mean bits/dim, its standard error (NaN for one image) and mean evaluations per batch. */
  record Measured(double bpd, double stderr, double nfeMean) {}

  /**
   * Bits/dim of the first {@code count} images of {@code data} under {@code score}: dequantised
   * with noise (seed, DEQUANTIZE, image index), scaled by {@code scaler}, in batches of {@code
   * batch} whose probes come from the engine's generator seeded (seed, PROBES, batch index).
   */
  static Measured bitsPerDim(
      ScoreFunction score,
      FlowLikelihood flow,
      DataScaler scaler,
      Dataset data,
      int count,
      int batch,
      long seed,
      NDManager manager,
      Listener progress) {
    SampleShape shape = data.shape();
    int d = shape.size();
    double logScale = scaler.logScale();
    double sum = 0;
    double sumSq = 0;
    long evaluations = 0;
    int batches = 0;
    float[] pixels = new float[Math.min(batch, count) * d];
    double[] u = new double[pixels.length];
    for (int done = 0; done < count; batches++) {
      int n = Math.min(batch, count - done);
      for (int i = 0; i < n; i++) {
        data.read(done + i, pixels, i * d);
        KeyedRandom noise = KeyedRandom.of(seed, DEQUANTIZE, done + i);
        for (int j = i * d; j < (i + 1) * d; j++) {
          u[j] = (Math.round(pixels[j] * 255.0) + noise.nextDouble()) / 256;
        }
      }
      Engine.getInstance().setRandomSeed((int) KeyedRandom.hash(seed, PROBES, batches));
      int base = done;
      double span = flow.horizon() - flow.eps();
      FlowLikelihood.Result logp;
      try (NDManager scope = manager.newSubManager()) {
        NDArray y =
            scaler.forward(scope.create(java.util.Arrays.copyOf(u, n * d), shape.batchShape(n)));
        logp =
            flow.logLikelihood(
                score,
                y,
                scope,
                t -> progress.update(base + (int) Math.floor(n * (t - flow.eps()) / span), count));
      }
      for (double l : logp.logLikelihood()) {
        double bpd = (-l - d * logScale) / (d * Math.log(2)) + 8;
        if (!Double.isFinite(bpd)) {
          throw new InvalidInputException(
              "the likelihood of an image of "
                  + data.description()
                  + " is not finite (the network's score is not finite)");
        }
        sum += bpd;
        sumSq += bpd * bpd;
      }
      evaluations += logp.evaluations();
      done += n;
      progress.update(done, count);
    }
    double mean = sum / count;
    double stderr =
        count < 2
            ? Double.NaN
            : Math.sqrt(Math.max(0, (sumSq - count * mean * mean) / (count - 1)) / count);
    return new Measured(mean, stderr, (double) evaluations / batches);
  }

  /** The {@code split} of the run's image data. */
  static Dataset split(Config config, String split) {
    if (split.equals("train")) {
      return TrainSetup.dataset(config);
    }
    String source = config.getString("scoreflow.data.source");
    String pathKey = "scoreflow.data.path";
    Path path =
        config.hasPath(pathKey) && !config.getString(pathKey).isBlank()
            ? Path.of(config.getString(pathKey))
            : null;
    require(path != null, "scoreflow.data.path must name where the %s data is", source);
    return switch (source) {
      case "fashion-mnist", "mnist" -> IdxImages.test(path);
      case "cifar10" -> Cifar10.test(path);
      default ->
          throw new InvalidInputException(
              "scoreflow.data.source " + source + " has no test split: use --split train");
    };
  }
}
