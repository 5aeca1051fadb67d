package io.scoreflow.sample;

import static io.scoreflow.InvalidInputException.require;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
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
import io.scoreflow.data.PngFolder;
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
   * means {@code RUN/samples/step-N-SAMPLER-K}; {@code sampleOptions} are {@code scoreflow.sample}
   * keys (pc's predictor, corrector, snr, corrector-steps) that override the run's config; {@code
   * guide} null means unconditional sampling.
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
      Device device,
      Map<String, Object> sampleOptions,
      Guide guide) {

    public Request(
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
      this(
          run, step, weights, sampler, steps, count, batch, seed, outPrefix, device, Map.of(),
          null);
    }

    public Request {
      sampleOptions = Map.copyOf(sampleOptions);
      require(count >= 1, "--count must be >= 1, got %s", count);
      require(batch >= 1, "--batch must be >= 1, got %s", batch);
      require(
          weights.equals("ema") || weights.equals("model"),
          "--weights must be ema or model, got %s",
          weights);
    }
  }

  /**
   * Controllable generation (score_sde's {@code controllable_generation.py}): every sample
   * completes {@code image}. {@link Kind#INPAINT} fills the pixels that are black in {@code mask}
   * (a grayscale PNG of the image's size; white, ≥ 128, is kept); {@link Kind#COLORIZE} colours the
   * image's gray scale (the channel mean), {@code mask} null.
   */
  public record Guide(Kind kind, Path image, Path mask) {
    public enum Kind {
      INPAINT,
      COLORIZE
    }

    /** The output name's word: {@code inpaint} or {@code colorize}. */
    String word() {
      return kind == Kind.INPAINT ? "inpaint" : "colorize";
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
    return io.scoreflow.math.GradMode.off(() -> runWithoutGrad(r, progress));
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

  private static Result runWithoutGrad(Request r, IntConsumer progress) {
    Config config = runConfig(r.run());
    ForwardSde sde = TrainSetup.sde(config);
    SampleShape shape = TrainSetup.sampleShape(config);
    long start = System.nanoTime();
    try (NDManager manager = NDManager.newBaseManager(r.device())) {
      TrainSetup.Model model = TrainSetup.model(config, shape, sde, manager);
      Loaded checkpoint =
          loadWeights(r.run(), r.step(), r.weights(), model.network(), manager, "sample");
      Optional<String> warning = checkpoint.warning();
      Config options =
          ConfigFactory.parseMap(r.sampleOptions())
              .withFallback(config.getConfig("scoreflow.sample"));
      Sampler sampler = Sampler.of(r.sampler(), sde, r.steps(), options);
      Engine.getInstance().setRandomSeed((int) KeyedRandom.hash(r.seed(), checkpoint.step()));
      Guided guided =
          r.guide() == null ? null : guided(r.guide(), shape, sampler, model.scaler(), manager);
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
          IntConsumer stepDone = k -> progress.accept(base * sampler.steps() + k * n);
          NDArray y =
              guided == null
                  ? sampler.sample(score, shape.batchShape(n), DataType.FLOAT32, scope, stepDone)
                  : ((PredictorCorrectorSampler) sampler)
                      .sample(
                          score,
                          shape.batchShape(n),
                          DataType.FLOAT32,
                          scope,
                          stepDone,
                          guided.condition());
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
                      String.format(
                          "step-%09d-%s%s-%d",
                          checkpoint.step(),
                          r.guide() == null ? "" : r.guide().word() + "-",
                          outputName(r.sampler(), options),
                          r.steps()));
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
        if (guided == null) {
          ImageGrid.write(all, image, r.count(), png);
        } else {
          ImageGrid.write(guided.rows(all, image, r.count()), image, 3 * r.count(), 3, png);
        }
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
   * A guide made ready: the condition in the model's space, and the input and middle column of the
   * grid in the data's range (C × H × W each).
   */
  private record Guided(Conditioning condition, float[] input, float[] middle) {
    /** The grid's rows: (input, mask or gray scale, result) for every sample. */
    float[] rows(float[] samples, SampleShape.Image image, int count) {
      int size = image.size();
      float[] out = new float[3 * count * size];
      for (int n = 0; n < count; n++) {
        System.arraycopy(input, 0, out, 3 * n * size, size);
        System.arraycopy(middle, 0, out, (3 * n + 1) * size, size);
        System.arraycopy(samples, n * size, out, (3 * n + 2) * size, size);
      }
      return out;
    }
  }

  /** Reads and checks the guide's PNGs against the run's model, each problem one line. */
  private static Guided guided(
      Guide guide,
      SampleShape shape,
      Sampler sampler,
      io.scoreflow.run.DataScaler scaler,
      NDManager manager) {
    String flag = guide.kind() == Guide.Kind.INPAINT ? "--inpaint" : "--colorize";
    if (!(shape instanceof SampleShape.Image image)) {
      throw new InvalidInputException(flag + " needs a run of images; this run samples " + shape);
    }
    if (!(sampler instanceof PredictorCorrectorSampler)) {
      throw new InvalidInputException(
          flag + " needs --sampler pc or euler-maruyama (predictor-corrector), not ode");
    }
    PngFolder.Image png = PngFolder.read(guide.image());
    int h = image.height();
    int w = image.width();
    require(
        png.width() == w && png.height() == h,
        "%s is %dx%d but the run's model makes %dx%d images",
        guide.image(),
        png.width(),
        png.height(),
        w,
        h);
    int c = image.channels();
    int plane = h * w;
    if (guide.kind() == Guide.Kind.COLORIZE) {
      require(
          c == 3,
          "--colorize needs a model of RGB images; the run's has %d channel%s",
          c,
          c == 1 ? "" : "s");
      float[] gray = new float[plane];
      for (int p = 0; p < plane; p++) {
        gray[p] = (png.rgb()[p] + png.rgb()[plane + p] + png.rgb()[2 * plane + p]) / 3f;
      }
      float[] shown = new float[3 * plane];
      for (int ch = 0; ch < 3; ch++) {
        System.arraycopy(gray, 0, shown, ch * plane, plane);
      }
      NDArray g = scaler.forward(manager.create(gray, new Shape(1, 1, h, w)));
      return new Guided(new Conditioning.Colorize(g), png.rgb(), shown);
    }
    require(
        c == 3 || png.gray(),
        "%s is a colour image but the run's model makes grayscale (1-channel) images",
        guide.image());
    PngFolder.Image mask = PngFolder.read(guide.mask());
    require(
        mask.width() == png.width() && mask.height() == png.height(),
        "mask %s is %dx%d but image %s is %dx%d",
        guide.mask(),
        mask.width(),
        mask.height(),
        guide.image(),
        png.width(),
        png.height());
    require(
        mask.gray(),
        "mask %s must be a grayscale PNG (white: keep, black: fill); it is a colour image",
        guide.mask());
    float[] known = new float[c * plane];
    for (int ch = 0; ch < c; ch++) {
      for (int p = 0; p < plane; p++) {
        known[ch * plane + p] = mask.rgb()[p] >= 0.5f ? 1f : 0f;
      }
    }
    float[] input = java.util.Arrays.copyOf(png.rgb(), c * plane);
    NDArray data = scaler.forward(manager.create(input.clone(), new Shape(1, c, h, w)));
    NDArray m = manager.create(known, new Shape(1, c, h, w));
    return new Guided(new Conditioning.Inpaint(data, m), input, known);
  }

  /**
   * The sampler's part of the default output name: pc names its predictor and corrector ({@code
   * pc-ancestral-ald}), so that runs of different pairings do not overwrite each other.
   */
  static String outputName(String sampler, Config options) {
    return sampler.equals("pc")
        ? "pc-" + options.getString("predictor") + "-" + options.getString("corrector")
        : sampler;
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
