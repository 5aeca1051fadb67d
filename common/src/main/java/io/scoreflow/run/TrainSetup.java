package io.scoreflow.run;

import static io.scoreflow.InvalidInputException.require;

import com.typesafe.config.Config;
import io.scoreflow.InvalidInputException;
import io.scoreflow.config.ConfigValues;
import io.scoreflow.data.Cifar10;
import io.scoreflow.data.Dataset;
import io.scoreflow.data.Datasets;
import io.scoreflow.data.GaussianData;
import io.scoreflow.data.IdxImages;
import io.scoreflow.data.SampleShape;
import io.scoreflow.model.MlpConfig;
import io.scoreflow.model.MlpScoreNet;
import io.scoreflow.model.Nonlinearity;
import io.scoreflow.model.ScoreNetConfig;
import io.scoreflow.model.ScoreNetConfig.EmbeddingType;
import io.scoreflow.model.ScoreNetwork;
import io.scoreflow.model.ScoreNetworks;
import io.scoreflow.sde.ForwardSde;
import io.scoreflow.sde.Schedule;
import io.scoreflow.sde.SdeSpec;
import io.scoreflow.sde.Sdes;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the parts of a training job from a resolved HOCON config ({@code scoreflow.sde}, {@code
 * scoreflow.model}, {@code scoreflow.data}): one place that turns config keys into objects, so a
 * worker, the single-process CLI and the sampler read the config the same way.
 */
public final class TrainSetup {

  private static final String SDE = "scoreflow.sde.";
  private static final String MODEL = "scoreflow.model.";

  private TrainSetup() {}

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new java.util.ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  /** The SDE of {@code scoreflow.sde} (name plus the parameters of that schedule). */
  public static ForwardSde sde(Config root) {
    Config c = root.getConfig("scoreflow.sde");
    String name = c.getString("name");
    Schedule schedule = Schedule.byId(name);
    for (Schedule other : Schedule.values()) {
      for (String key : concat(other.parameterKeys(), other.expressionKeys())) {
        require(
            !c.hasPath(key)
                || schedule.parameterKeys().contains(key)
                || schedule.expressionKeys().contains(key),
            "scoreflow.sde.%s does not apply to %s (it takes %s)",
            key,
            name,
            String.join(", ", concat(schedule.parameterKeys(), schedule.expressionKeys())));
      }
    }
    Map<String, Double> params = new LinkedHashMap<>();
    for (String key : schedule.parameterKeys()) {
      if (c.hasPath(key)) {
        params.put(key, ConfigValues.number(root, SDE + key));
      }
    }
    Map<String, String> expressions = new LinkedHashMap<>();
    for (String key : schedule.expressionKeys()) {
      if (c.hasPath(key)) {
        expressions.put(key, ConfigValues.string(root, SDE + key));
      }
    }
    return Sdes.create(SdeSpec.resolve(name, params, expressions, c.getDouble("horizon"), c));
  }

  /**
   * The shape of one sample: {@code scoreflow.data.sample-shape} when the run recorded it (so
   * sampling needs no data on disk), else the dataset's.
   */
  public static SampleShape sampleShape(Config root) {
    String path = "scoreflow.data.sample-shape";
    if (root.hasPath(path)) {
      List<Integer> dims = ConfigValues.wholeList(root, path);
      return switch (dims.size()) {
        case 1 -> SampleShape.vector(dims.get(0));
        case 3 -> SampleShape.image(dims.get(0), dims.get(1), dims.get(2));
        default -> throw new InvalidInputException(path + " must have 1 or 3 entries, got " + dims);
      };
    }
    return dataset(root).shape();
  }

  /** {@code root} with the sample shape recorded under {@code scoreflow.data.sample-shape}. */
  public static Config withSampleShape(Config root, SampleShape shape) {
    List<Integer> dims =
        shape instanceof SampleShape.Image i
            ? List.of(i.channels(), i.height(), i.width())
            : List.of(shape.size());
    return root.withValue(
        "scoreflow.data.sample-shape", com.typesafe.config.ConfigValueFactory.fromIterable(dims));
  }

  /** The training data of {@code scoreflow.data}. */
  public static Dataset dataset(Config root) {
    Config c = root.getConfig("scoreflow.data");
    String source = c.getString("source");
    return switch (source) {
      case "fashion-mnist", "mnist" -> IdxImages.train(path(c, source));
      case "cifar10" -> Cifar10.train(path(c, source));
      case "folder" -> Datasets.open(path(c, source));
      case "gaussian" ->
          GaussianData.builder()
              .dimension(c.getInt("gaussian.dim"))
              .mean(c.getDouble("gaussian.mean"))
              .std(c.getDouble("gaussian.std"))
              .size(c.getInt("gaussian.size"))
              .seed(root.getLong("scoreflow.train.seed"))
              .build();
      default ->
          throw new InvalidInputException(
              "scoreflow.data.source '"
                  + source
                  + "' is not one of fashion-mnist, mnist, cifar10, folder, gaussian");
    };
  }

  private static Path path(Config c, String source) {
    require(
        c.hasPath("path") && !c.getString("path").isBlank(),
        "scoreflow.data.path must name where the %s data is",
        source);
    return Path.of(c.getString("path"));
  }

  /** A built network with how its output becomes a score and how data are scaled for it. */
  public record Model(ScoreNetwork network, Parametrisation parametrisation, DataScaler scaler) {}

  /**
   * The network of {@code scoreflow.model} for data of {@code shape}: an NCSN++/DDPM++ preset
   * ({@code ddpmpp-cont}, {@code ncsnpp-cont}, their {@code -deep} variants, {@code tiny-ddpmpp},
   * {@code tiny-ncsnpp}) fitted to the image size, or {@code mlp} for vectors.
   */
  public static Model model(
      Config root, SampleShape shape, ForwardSde sde, ai.djl.ndarray.NDManager manager) {
    Config c = root.getConfig("scoreflow.model");
    String arch = c.getString("arch");
    long seed =
        c.hasPath("seed")
            ? ConfigValues.whole(root, MODEL + "seed")
            : root.getLong("scoreflow.train.seed");
    if (arch.equals("mlp")) {
      require(
          shape instanceof SampleShape.Vector,
          "scoreflow.model.arch = mlp needs vector data, got %s",
          shape);
      boolean ve = sde.spec().schedule().family() == Schedule.Family.VE;
      MlpConfig mlp =
          new MlpConfig(
              shape.size(),
              c.getInt("mlp.hidden"),
              c.getInt("mlp.layers"),
              c.getInt("mlp.embedding-dim"),
              ve ? EmbeddingType.FOURIER : EmbeddingType.POSITIONAL,
              16,
              ve,
              Nonlinearity.SWISH,
              seed);
      MlpScoreNet net = ScoreNetworks.build(mlp, manager);
      return new Model(net, parametrisation(mlp.embeddingType()), DataScaler.IDENTITY);
    }
    require(
        shape instanceof SampleShape.Image,
        "scoreflow.model.arch = %s needs image data, got %s",
        arch,
        shape);
    SampleShape.Image image = (SampleShape.Image) shape;
    require(
        image.height() == image.width(),
        "the U-Nets need square images, got %s×%s",
        image.height(),
        image.width());
    ScoreNetConfig.Builder b =
        switch (arch) {
          case "tiny-ddpmpp" ->
              ScoreNetConfig.tinyDdpmpp(image.height(), image.channels()).toBuilder();
          case "tiny-ncsnpp" ->
              ScoreNetConfig.tinyNcsnpp(image.height(), image.channels()).toBuilder();
          default ->
              ScoreNetConfig.preset(arch).toBuilder()
                  .imageSize(image.height())
                  .channels(image.channels());
        };
    if (c.hasPath("nf")) {
      b.nf(ConfigValues.wholeInt(root, MODEL + "nf"));
    }
    if (c.hasPath("num-res-blocks")) {
      b.numResBlocks(ConfigValues.wholeInt(root, MODEL + "num-res-blocks"));
    }
    if (c.hasPath("ch-mult")) {
      b.chMult(ints(ConfigValues.wholeList(root, MODEL + "ch-mult")));
    }
    if (c.hasPath("attn-resolutions")) {
      b.attnResolutions(ints(ConfigValues.wholeList(root, MODEL + "attn-resolutions")));
    }
    if (c.hasPath("dropout")) {
      b.dropout(ConfigValues.number(root, MODEL + "dropout"));
    }
    if (c.hasPath("resblock-type")) {
      String type = ConfigValues.string(root, MODEL + "resblock-type");
      require(
          type.equals("biggan") || type.equals("ddpm"),
          "scoreflow.model.resblock-type must be biggan or ddpm, got %s",
          type);
      b.resblockType(ScoreNetConfig.ResblockType.valueOf(type.toUpperCase(java.util.Locale.ROOT)));
    }
    if (c.hasPath("fir")) {
      b.fir(ConfigValues.bool(root, MODEL + "fir"));
    }
    if (sde.spec().schedule().family() == Schedule.Family.VE) {
      b.sigmaMin(sde.noiseLevel(0)).sigmaMax(sde.noiseLevel(sde.horizon()));
    }
    ScoreNetConfig config = b.seed(seed).build();
    ScoreNetwork net = ScoreNetworks.build(config, manager);
    // The data pipeline centres only for a network that expects centred input; NCSN++ (centered =
    // false) takes [0, 1] and maps it to [−1, 1] itself.
    DataScaler scaler = config.centered() ? DataScaler.CENTERED : DataScaler.IDENTITY;
    return new Model(net, parametrisation(config.embeddingType()), scaler);
  }

  private static Parametrisation parametrisation(EmbeddingType embedding) {
    return embedding == EmbeddingType.POSITIONAL
        ? new Parametrisation.NoisePrediction()
        : new Parametrisation.SigmaScaled();
  }

  private static int[] ints(List<Integer> values) {
    return values.stream().mapToInt(Integer::intValue).toArray();
  }
}
