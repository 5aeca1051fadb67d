package io.scoreflow.model;

import io.scoreflow.InvalidInputException;
import java.util.List;
import java.util.Locale;

/**
 * Every knob of score_sde's NCSN++ model ({@code models/ncsnpp.py}) with the {@code data} fields it
 * reads, plus a seed for the initialization. Immutable; start from a preset and adjust with {@link
 * #toBuilder()}.
 *
 * <h2>What {@code cond} and {@code out} mean</h2>
 *
 * The network computes {@code out = net(x, cond)} with {@code x} (B, C, H, W) and {@code cond} (B):
 *
 * <ul>
 *   <li>{@link EmbeddingType#POSITIONAL} ({@code ddpmpp-cont}, {@code tiny-ddpmpp}): {@code cond}
 *       is a time label fed to the sinusoidal embedding; score_sde trains VP models with {@code
 *       cond = 999 t}, t in [0, 1]. {@code out} is the raw network output (a noise prediction): the
 *       score is {@code -out / std(t)} with {@code std(t) = sqrt(a2(t))}, applied by the caller.
 *       With {@code scaleBySigma} (off in these presets) out would be divided by {@code
 *       sigmas[(int) cond]}, the reference's discrete noise levels.
 *   <li>{@link EmbeddingType#FOURIER} ({@code ncsnpp-cont}, {@code tiny-ncsnpp}): {@code cond} is
 *       the standard deviation of the noise in {@code x}, sigma > 0 (the network embeds {@code log
 *       cond}); score_sde passes the VE marginal std {@code sigma(t)}. With {@code scaleBySigma}
 *       {@code out} is the raw output divided by {@code cond}, i.e. already the score estimate
 *       ({@code score = out}); without it, {@code score = out / cond} is left to the caller.
 *   <li>{@code centered = false} ({@code ncsnpp-cont}): {@code x} is expected in [0, 1] and mapped
 *       to {@code 2x - 1} inside the network; {@code centered = true}: {@code x} is used as given
 *       (data in [-1, 1]).
 * </ul>
 *
 * @param name preset name, for reports
 * @param imageSize H = W of the input
 * @param channels C of the input and output
 * @param nf base channel count
 * @param chMult channel multiplier per resolution level (one level per entry)
 * @param numResBlocks residual blocks per level on the way down (one more on the way up)
 * @param attnResolutions resolutions (H) at which attention blocks are inserted
 * @param dropout dropout rate inside the residual blocks (training only)
 * @param resampWithConv whether standalone up/down-sampling layers carry a convolution
 * @param conditional whether the time embedding is fed to the residual blocks
 * @param fir FIR resampling (StyleGAN2) instead of nearest / mean-pool
 * @param firKernel the 1-D FIR taps, e.g. [1, 3, 3, 1]
 * @param skipRescale divide residual sums by sqrt(2)
 * @param resblockType residual block flavour
 * @param progressive output pyramid mode
 * @param progressiveInput input pyramid mode
 * @param progressiveCombine how the input pyramid is merged
 * @param embeddingType time embedding
 * @param fourierScale std of the frozen Fourier weights
 * @param scaleBySigma divide the output by sigma (see above)
 * @param centered whether inputs are already centered in [-1, 1]
 * @param initScale init scale of the last conv of each block and of the output conv (0 in the
 *     reference, which becomes 1e-10)
 * @param nonlinearity activation
 * @param sigmaMin smallest of the reference's discrete noise levels (the {@code sigmas} buffer)
 * @param sigmaMax largest discrete noise level
 * @param numScales number of discrete noise levels
 * @param seed initialization seed
 */
public record ScoreNetConfig(
    String name,
    int imageSize,
    int channels,
    int nf,
    List<Integer> chMult,
    int numResBlocks,
    List<Integer> attnResolutions,
    double dropout,
    boolean resampWithConv,
    boolean conditional,
    boolean fir,
    List<Integer> firKernel,
    boolean skipRescale,
    ResblockType resblockType,
    Progressive progressive,
    ProgressiveInput progressiveInput,
    CombineMethod progressiveCombine,
    EmbeddingType embeddingType,
    double fourierScale,
    boolean scaleBySigma,
    boolean centered,
    double initScale,
    Nonlinearity nonlinearity,
    double sigmaMin,
    double sigmaMax,
    int numScales,
    long seed) {

  /** Residual block flavour ({@code model.resblock_type}). */
  public enum ResblockType {
    /** {@code ResnetBlockDDPMpp}, with separate Upsample / Downsample layers. */
    DDPM,
    /** {@code ResnetBlockBigGANpp}, which resamples inside the block. */
    BIGGAN
  }

  /** Output pyramid ({@code model.progressive}). */
  public enum Progressive {
    NONE,
    OUTPUT_SKIP,
    RESIDUAL
  }

  /** Input pyramid ({@code model.progressive_input}). */
  public enum ProgressiveInput {
    NONE,
    INPUT_SKIP,
    RESIDUAL
  }

  /** How {@code input_skip} merges the pyramid ({@code model.progressive_combine}). */
  public enum CombineMethod {
    SUM,
    CAT
  }

  /** Time / noise embedding ({@code model.embedding_type}). */
  public enum EmbeddingType {
    /** Sinusoidal embedding of {@code cond} (DDPM), dimension nf. */
    POSITIONAL,
    /** Gaussian Fourier features of {@code log cond}, dimension 2 nf. */
    FOURIER
  }

  public ScoreNetConfig {
    chMult = List.copyOf(chMult);
    attnResolutions = List.copyOf(attnResolutions);
    firKernel = List.copyOf(firKernel);
    validate(
        name,
        imageSize,
        channels,
        nf,
        chMult,
        numResBlocks,
        dropout,
        firKernel,
        fourierScale,
        numScales);
  }

  private static void validate(
      String name,
      int imageSize,
      int channels,
      int nf,
      List<Integer> chMult,
      int numResBlocks,
      double dropout,
      List<Integer> firKernel,
      double fourierScale,
      int numScales) {
    InvalidInputException.require(nf > 0, "%s: nf must be positive, got %d", name, nf);
    InvalidInputException.require(
        channels > 0, "%s: channels must be positive, got %d", name, channels);
    InvalidInputException.require(!chMult.isEmpty(), "%s: ch_mult must not be empty", name);
    for (int m : chMult) {
      InvalidInputException.require(
          m > 0, "%s: ch_mult entries must be positive: %s", name, chMult);
    }
    InvalidInputException.require(
        numResBlocks >= 1, "%s: num_res_blocks must be at least 1, got %d", name, numResBlocks);
    int levels = chMult.size();
    InvalidInputException.require(
        imageSize > 0 && imageSize % (1 << (levels - 1)) == 0,
        "%s: image size %d must be divisible by 2^(len(ch_mult)-1) = %d",
        name,
        imageSize,
        1 << (levels - 1));
    InvalidInputException.require(
        dropout >= 0 && dropout < 1, "%s: dropout must be in [0, 1), got %s", name, dropout);
    InvalidInputException.require(
        firKernel.size() >= 2 && firKernel.size() % 2 == 0,
        "%s: fir_kernel must have an even number of taps, got %s",
        name,
        firKernel);
    InvalidInputException.require(
        fourierScale > 0, "%s: fourier_scale must be positive, got %s", name, fourierScale);
    InvalidInputException.require(
        numScales >= 1, "%s: num_scales must be positive, got %d", name, numScales);
  }

  /** Resolution (H) of each level: imageSize / 2^level. */
  public int[] resolutions() {
    int[] r = new int[chMult.size()];
    for (int i = 0; i < r.length; i++) {
      r[i] = imageSize >> i;
    }
    return r;
  }

  public Builder toBuilder() {
    return new Builder(this);
  }

  /** The same configuration with another base width. */
  public ScoreNetConfig withNf(int newNf) {
    return toBuilder().nf(newNf).build();
  }

  // ---------------------------------------------------------------- presets

  /** Preset names accepted by {@link #preset(String)}. */
  public static final List<String> PRESETS =
      List.of(
          "ddpmpp-cont",
          "ddpmpp-cont-deep",
          "ncsnpp-cont",
          "ncsnpp-cont-deep",
          "tiny-ddpmpp",
          "tiny-ncsnpp");

  /**
   * score_sde {@code configs/vp/cifar10_ddpmpp_continuous}: DDPM++ for the VP SDE, nf 128, ch_mult
   * (1, 2, 2, 2), 4 blocks per level, attention at 16, BigGAN blocks without FIR, positional
   * embedding of {@code cond = 999 t}, centered data, no output scaling. 61,804,419 parameters.
   */
  public static ScoreNetConfig ddpmppCont() {
    return cifar10Defaults()
        .name("ddpmpp-cont")
        .fir(false)
        .progressiveInput(ProgressiveInput.NONE)
        .embeddingType(EmbeddingType.POSITIONAL)
        .scaleBySigma(false)
        .centered(true)
        .build();
  }

  /** {@link #ddpmppCont()} with 8 blocks per level (cifar10_ddpmpp_deep_continuous). */
  public static ScoreNetConfig ddpmppContDeep() {
    return ddpmppCont().toBuilder().name("ddpmpp-cont-deep").numResBlocks(8).build();
  }

  /**
   * score_sde {@code configs/ve/cifar10_ncsnpp_continuous}: NCSN++ for the VE SDE, as DDPM++ but
   * with FIR [1, 3, 3, 1] resampling, a residual input pyramid, Fourier features of {@code log
   * sigma} (scale 16, frozen), data in [0, 1], output divided by sigma. 62,758,915 parameters, of
   * which 62,758,787 trainable.
   */
  public static ScoreNetConfig ncsnppCont() {
    return cifar10Defaults()
        .name("ncsnpp-cont")
        .fir(true)
        .progressiveInput(ProgressiveInput.RESIDUAL)
        .embeddingType(EmbeddingType.FOURIER)
        .scaleBySigma(true)
        .centered(false)
        .build();
  }

  /** {@link #ncsnppCont()} with 8 blocks per level (cifar10_ncsnpp_deep_continuous). */
  public static ScoreNetConfig ncsnppContDeep() {
    return ncsnppCont().toBuilder().name("ncsnpp-cont-deep").numResBlocks(8).build();
  }

  /**
   * A CPU-sized DDPM++ (the same architecture code): nf 32, ch_mult (1, 2, 2), one block per level,
   * attention at the lowest resolution. Works for 28x28 (Fashion-MNIST, levels 28/14/7) and 32x32
   * images of any channel count. Same {@code cond}/{@code out} contract as {@code ddpmpp-cont}.
   */
  public static ScoreNetConfig tinyDdpmpp(int imageSize, int channels) {
    return ddpmppCont().toBuilder().name("tiny-ddpmpp").tiny(imageSize, channels).build();
  }

  /** The NCSN++ flavour of {@link #tinyDdpmpp}: same {@code cond}/{@code out} as ncsnpp-cont. */
  public static ScoreNetConfig tinyNcsnpp(int imageSize, int channels) {
    return ncsnppCont().toBuilder().name("tiny-ncsnpp").tiny(imageSize, channels).build();
  }

  /**
   * A preset by name (see {@link #PRESETS}); tiny presets are 32x32x3 here, use {@link
   * #tinyDdpmpp(int, int)} for other image shapes.
   */
  public static ScoreNetConfig preset(String name) {
    switch (name.toLowerCase(Locale.ROOT)) {
      case "ddpmpp-cont":
        return ddpmppCont();
      case "ddpmpp-cont-deep":
        return ddpmppContDeep();
      case "ncsnpp-cont":
        return ncsnppCont();
      case "ncsnpp-cont-deep":
        return ncsnppContDeep();
      case "tiny-ddpmpp":
        return tinyDdpmpp(32, 3);
      case "tiny-ncsnpp":
        return tinyNcsnpp(32, 3);
      default:
        throw new InvalidInputException(
            "unknown model preset '" + name + "', expected one of " + PRESETS);
    }
  }

  /**
   * The CLI's {@code --arch ddpmpp|ncsnpp [--deep] [--nf N]}: the continuous CIFAR-10 preset of
   * that architecture; {@code nf <= 0} keeps the preset's 128.
   */
  public static ScoreNetConfig forArch(String arch, boolean deep, int nf) {
    String a = arch.toLowerCase(Locale.ROOT);
    ScoreNetConfig c;
    if (a.equals("ddpmpp")) {
      c = deep ? ddpmppContDeep() : ddpmppCont();
    } else if (a.equals("ncsnpp")) {
      c = deep ? ncsnppContDeep() : ncsnppCont();
    } else {
      throw new InvalidInputException(
          "unknown architecture '" + arch + "', expected ddpmpp or ncsnpp");
    }
    return nf > 0 ? c.withNf(nf) : c;
  }

  /** score_sde's default_cifar10_configs plus the model fields both continuous configs share. */
  private static Builder cifar10Defaults() {
    return new Builder()
        .imageSize(32)
        .channels(3)
        .nf(128)
        .chMult(1, 2, 2, 2)
        .numResBlocks(4)
        .attnResolutions(16)
        .dropout(0.1)
        .resampWithConv(true)
        .conditional(true)
        .firKernel(1, 3, 3, 1)
        .skipRescale(true)
        .resblockType(ResblockType.BIGGAN)
        .progressive(Progressive.NONE)
        .progressiveCombine(CombineMethod.SUM)
        .fourierScale(16)
        .initScale(0.0)
        .nonlinearity(Nonlinearity.SWISH)
        .sigmaMin(0.01)
        .sigmaMax(50)
        .numScales(1000)
        .seed(42);
  }

  /** Mutable builder; {@link #build()} validates. */
  public static final class Builder {
    private String name = "custom";
    private int imageSize = 32;
    private int channels = 3;
    private int nf = 128;
    private List<Integer> chMult = List.of(1, 2, 2, 2);
    private int numResBlocks = 4;
    private List<Integer> attnResolutions = List.of(16);
    private double dropout = 0.1;
    private boolean resampWithConv = true;
    private boolean conditional = true;
    private boolean fir = false;
    private List<Integer> firKernel = List.of(1, 3, 3, 1);
    private boolean skipRescale = true;
    private ResblockType resblockType = ResblockType.BIGGAN;
    private Progressive progressive = Progressive.NONE;
    private ProgressiveInput progressiveInput = ProgressiveInput.NONE;
    private CombineMethod progressiveCombine = CombineMethod.SUM;
    private EmbeddingType embeddingType = EmbeddingType.POSITIONAL;
    private double fourierScale = 16;
    private boolean scaleBySigma = false;
    private boolean centered = true;
    private double initScale = 0.0;
    private Nonlinearity nonlinearity = Nonlinearity.SWISH;
    private double sigmaMin = 0.01;
    private double sigmaMax = 50;
    private int numScales = 1000;
    private long seed = 42;

    public Builder() {}

    private Builder(ScoreNetConfig c) {
      name = c.name;
      imageSize = c.imageSize;
      channels = c.channels;
      nf = c.nf;
      chMult = c.chMult;
      numResBlocks = c.numResBlocks;
      attnResolutions = c.attnResolutions;
      dropout = c.dropout;
      resampWithConv = c.resampWithConv;
      conditional = c.conditional;
      fir = c.fir;
      firKernel = c.firKernel;
      skipRescale = c.skipRescale;
      resblockType = c.resblockType;
      progressive = c.progressive;
      progressiveInput = c.progressiveInput;
      progressiveCombine = c.progressiveCombine;
      embeddingType = c.embeddingType;
      fourierScale = c.fourierScale;
      scaleBySigma = c.scaleBySigma;
      centered = c.centered;
      initScale = c.initScale;
      nonlinearity = c.nonlinearity;
      sigmaMin = c.sigmaMin;
      sigmaMax = c.sigmaMax;
      numScales = c.numScales;
      seed = c.seed;
    }

    private Builder tiny(int size, int ch) {
      return imageSize(size)
          .channels(ch)
          .nf(32)
          .chMult(1, 2, 2)
          .numResBlocks(1)
          .attnResolutions(size / 4);
    }

    public Builder name(String v) {
      name = v;
      return this;
    }

    public Builder imageSize(int v) {
      imageSize = v;
      return this;
    }

    public Builder channels(int v) {
      channels = v;
      return this;
    }

    public Builder nf(int v) {
      nf = v;
      return this;
    }

    public Builder chMult(int... v) {
      chMult = java.util.Arrays.stream(v).boxed().toList();
      return this;
    }

    public Builder numResBlocks(int v) {
      numResBlocks = v;
      return this;
    }

    public Builder attnResolutions(int... v) {
      attnResolutions = java.util.Arrays.stream(v).boxed().toList();
      return this;
    }

    public Builder dropout(double v) {
      dropout = v;
      return this;
    }

    public Builder resampWithConv(boolean v) {
      resampWithConv = v;
      return this;
    }

    public Builder conditional(boolean v) {
      conditional = v;
      return this;
    }

    public Builder fir(boolean v) {
      fir = v;
      return this;
    }

    public Builder firKernel(int... v) {
      firKernel = java.util.Arrays.stream(v).boxed().toList();
      return this;
    }

    public Builder skipRescale(boolean v) {
      skipRescale = v;
      return this;
    }

    public Builder resblockType(ResblockType v) {
      resblockType = v;
      return this;
    }

    public Builder progressive(Progressive v) {
      progressive = v;
      return this;
    }

    public Builder progressiveInput(ProgressiveInput v) {
      progressiveInput = v;
      return this;
    }

    public Builder progressiveCombine(CombineMethod v) {
      progressiveCombine = v;
      return this;
    }

    public Builder embeddingType(EmbeddingType v) {
      embeddingType = v;
      return this;
    }

    public Builder fourierScale(double v) {
      fourierScale = v;
      return this;
    }

    public Builder scaleBySigma(boolean v) {
      scaleBySigma = v;
      return this;
    }

    public Builder centered(boolean v) {
      centered = v;
      return this;
    }

    public Builder initScale(double v) {
      initScale = v;
      return this;
    }

    public Builder nonlinearity(Nonlinearity v) {
      nonlinearity = v;
      return this;
    }

    public Builder sigmaMin(double v) {
      sigmaMin = v;
      return this;
    }

    public Builder sigmaMax(double v) {
      sigmaMax = v;
      return this;
    }

    public Builder numScales(int v) {
      numScales = v;
      return this;
    }

    public Builder seed(long v) {
      seed = v;
      return this;
    }

    public ScoreNetConfig build() {
      return new ScoreNetConfig(
          name,
          imageSize,
          channels,
          nf,
          chMult,
          numResBlocks,
          attnResolutions,
          dropout,
          resampWithConv,
          conditional,
          fir,
          firKernel,
          skipRescale,
          resblockType,
          progressive,
          progressiveInput,
          progressiveCombine,
          embeddingType,
          fourierScale,
          scaleBySigma,
          centered,
          initScale,
          nonlinearity,
          sigmaMin,
          sigmaMax,
          numScales,
          seed);
    }
  }
}
