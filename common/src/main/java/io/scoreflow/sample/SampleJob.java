package io.scoreflow.sample;

import static io.scoreflow.InvalidInputException.require;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.scoreflow.InvalidInputException;
import io.scoreflow.ckpt.CheckpointSearch;
import io.scoreflow.ckpt.LoadedCheckpoint;
import io.scoreflow.config.Configs;
import io.scoreflow.data.ImageGrid;
import io.scoreflow.data.Npz;
import io.scoreflow.data.SampleShape;
import io.scoreflow.math.InPlace;
import io.scoreflow.math.KeyedRandom;
import io.scoreflow.model.ScoreNetwork;
import io.scoreflow.run.RunDirectory;
import io.scoreflow.run.TrainSetup;
import io.scoreflow.sde.ForwardSde;
import io.scoreflow.train.TrainState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.IntConsumer;

/**
 * Samples from a run's checkpoint: rebuilds the network from the run's stored config, loads the EMA
 * (or raw) weights, runs the configured sampler in batches, and writes a PNG grid (images) and an
 * {@code .npz} of every sample (array {@code samples}, N×C×H×W or N×d, in the data's range).
 */
public final class SampleJob {

  /**
   * What to sample. {@code step} null means the newest valid checkpoint; {@code outPrefix} null
   * means {@code RUN/samples/step-N-SAMPLER-K}.
   */
  public record Request(
      Path run,
      Long step,
      String weights,
      String sampler,
      int steps,
      int count,
      int batch,
      long seed,
      Path outPrefix,
      Device device) {

    public Request {
      require(count >= 1, "--count must be >= 1, got %s", count);
      require(batch >= 1, "--batch must be >= 1, got %s", batch);
      require(
          weights.equals("ema") || weights.equals("model"),
          "--weights must be ema or model, got %s",
          weights);
    }
  }

  /**
   * Where the outputs went. {@code png} is null for vector data. {@code warning}, if present, says
   * that the newest checkpoint failed verification and an older one was sampled. {@code nfe} is the
   * number of score (network) evaluations per batch, averaged over the batches (adaptive samplers
   * spend a different number on each).
   */
  public record Result(
      long checkpointStep,
      Path npz,
      Path png,
      int count,
      long millis,
      Optional<String> warning,
      double nfe) {}

  private SampleJob() {}

  /**
   * Runs the request, reporting progress as (samples finished so far × sampler steps). Runs on any
   * thread: libtorch's grad mode is per thread and on in a new one (where loading weights into
   * parameters in place would fail, and sampling would record a graph), so it is off while this
   * runs and restored afterwards.
   */
  public static Result run(Request r, IntConsumer progress) {
    return run(r, ConfigFactory.empty(), progress);
  }

  /**
   * As {@link #run(Request, IntConsumer)}, with {@code sampleOptions} (keys of {@code
   * scoreflow.sample}, such as {@code rtol}) over the run's own.
   */
  public static Result run(Request r, Config sampleOptions, IntConsumer progress) {
    return io.scoreflow.math.GradMode.off(() -> runWithoutGrad(r, sampleOptions, progress));
  }

  /**
   * The resolved config of the run directory {@code run} (its {@code config.conf}): what the run
   * trained, and the defaults of sampling it ({@code scoreflow.sample}).
   *
   * @throws InvalidInputException when {@code run} holds no config.conf
   */
  public static Config runConfig(Path run) {
    Path configFile = run.resolve("config.conf");
    if (!Files.isRegularFile(configFile)) {
      throw new InvalidInputException(run + " is not a run directory (no config.conf)");
    }
    return Configs.load(configFile.toString(), List.of());
  }

  private static Result runWithoutGrad(Request r, Config sampleOptions, IntConsumer progress) {
    Config config = runConfig(r.run());
    ForwardSde sde = TrainSetup.sde(config);
    SampleShape shape = TrainSetup.sampleShape(config);
    long start = System.nanoTime();
    try (NDManager manager = NDManager.newBaseManager(r.device())) {
      TrainSetup.Model model = TrainSetup.model(config, shape, sde, manager);
      Loaded checkpoint =
          loadWeights(r.run(), r.step(), r.weights(), model.network(), manager, "sample");
      Optional<String> warning = checkpoint.warning();
      Sampler sampler =
          Sampler.of(
              r.sampler(),
              sde,
              r.steps(),
              sampleOptions.withFallback(config.getConfig("scoreflow.sample")));
      Engine.getInstance().setRandomSeed((int) KeyedRandom.hash(r.seed(), checkpoint.step()));
      float[] all = new float[r.count() * shape.size()];
      int done = 0;
      ParameterStore store = new ParameterStore(manager, false);
      NetworkScore network = new NetworkScore(model.network(), model.parametrisation(), sde, store);
      long[] evaluations = {0};
      ScoreFunction score =
          (x, t) -> {
            evaluations[0]++;
            return network.score(x, t);
          };
      int batches = 0;
      while (done < r.count()) {
        int n = Math.min(r.batch(), r.count() - done);
        int base = done;
        try (NDManager scope = manager.newSubManager()) {
          NDArray y =
              sampler.sample(
                  score,
                  shape.batchShape(n),
                  DataType.FLOAT32,
                  scope,
                  k -> progress.accept(base * sampler.steps() + k * n));
          model.scaler().inverse(y);
          System.arraycopy(y.toFloatArray(), 0, all, done * shape.size(), n * shape.size());
        }
        done += n;
        batches++;
      }
      Path prefix =
          r.outPrefix() != null
              ? r.outPrefix()
              : r.run()
                  .resolve("samples")
                  .resolve(
                      String.format("step-%09d-%s-%d", checkpoint.step(), r.sampler(), r.steps()));
      Path parent = prefix.toAbsolutePath().getParent();
      try {
        Files.createDirectories(parent);
      } catch (java.io.IOException e) {
        throw new InvalidInputException("cannot create " + parent + ": " + e.getMessage(), e);
      }
      Path npz = Path.of(prefix + ".npz");
      int[] dims = new int[(int) shape.batchShape(r.count()).dimension()];
      long[] batchShape = shape.batchShape(r.count()).getShape();
      for (int i = 0; i < dims.length; i++) {
        dims[i] = (int) batchShape[i];
      }
      Npz.write(npz, Map.of("samples", Npz.FloatArray.of(all, dims)));
      Path png = null;
      if (shape instanceof SampleShape.Image image) {
        png = Path.of(prefix + ".png");
        ImageGrid.write(all, image, r.count(), png);
      }
      return new Result(
          checkpoint.step(),
          npz,
          png,
          r.count(),
          (System.nanoTime() - start) / 1_000_000,
          warning,
          (double) evaluations[0] / batches);
    }
  }

  /**
   * Which checkpoint's weights were loaded; {@code warning}, if present, says that the newest
   * checkpoint failed verification and an older one was used.
   */
  public record Loaded(long step, Optional<String> warning) {}

  /**
   * Loads the {@code weights} (ema or model) of the checkpoint {@code step} of the run directory
   * {@code run} into {@code network}, with the same complete verification as resuming: {@code step}
   * null means the newest checkpoint that verifies; a named one must verify (no fallback from what
   * the user asked). {@code verb} names the use in errors ("cannot sample RUN: ...").
   */
  public static Loaded loadWeights(
      Path run, Long step, String weights, ScoreNetwork network, NDManager manager, String verb) {
    RunDirectory directory = new RunDirectory(run);
    try (NDManager scratch = manager.newSubManager()) {
      LoadedCheckpoint checkpoint;
      Optional<String> warning = Optional.empty();
      if (step == null) {
        CheckpointSearch<LoadedCheckpoint> search = directory.reader().search(scratch);
        checkpoint = search.found().orElseThrow(() -> nothingToLoad(directory, search, verb));
        warning = RunDirectory.fallbackWarning(search);
      } else {
        checkpoint = directory.reader().load(step, scratch);
      }
      loadInto(
          network.stateDict(),
          checkpoint.group(weights.equals("ema") ? TrainState.EMA : TrainState.MODEL));
      return new Loaded(checkpoint.step(), warning);
    }
  }

  private static InvalidInputException nothingToLoad(
      RunDirectory run, CheckpointSearch<LoadedCheckpoint> search, String verb) {
    if (search instanceof CheckpointSearch.NoneVerifies<LoadedCheckpoint> failed) {
      return new InvalidInputException(
          "cannot " + verb + " " + run.path() + ": " + RunDirectory.failures(failed));
    }
    return new InvalidInputException(run.path() + " holds no checkpoint to " + verb + " from");
  }

  /** Copies a checkpoint's state_dict group into the network's parameters, by name. */
  static void loadInto(Map<String, Parameter> params, NDList group) {
    for (Map.Entry<String, Parameter> e : params.entrySet()) {
      NDArray source = group.get(e.getKey());
      if (source == null) {
        throw new InvalidInputException("checkpoint has no tensor " + e.getKey());
      }
      NDArray target = e.getValue().getArray();
      if (!source.getShape().equals(target.getShape())) {
        throw new InvalidInputException(
            "checkpoint tensor "
                + e.getKey()
                + " has shape "
                + source.getShape()
                + ", the network "
                + target.getShape());
      }
      InPlace.assign(target, source);
    }
  }
}
