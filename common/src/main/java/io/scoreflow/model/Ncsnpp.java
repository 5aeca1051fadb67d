package io.scoreflow.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import io.scoreflow.InvalidInputException;
import io.scoreflow.math.NativeArrays;
import io.scoreflow.model.ResnetBlockBigGan.Resample;
import io.scoreflow.model.ScoreNetConfig.CombineMethod;
import io.scoreflow.model.ScoreNetConfig.EmbeddingType;
import io.scoreflow.model.ScoreNetConfig.Progressive;
import io.scoreflow.model.ScoreNetConfig.ProgressiveInput;
import io.scoreflow.model.ScoreNetConfig.ResblockType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The NCSN++ / DDPM++ U-Net of score_sde ({@code models/ncsnpp.py}, class {@code NCSNpp}): DDPM++
 * and NCSN++ are this one class with different {@link ScoreNetConfig}s. The modules are kept in one
 * list named {@code all_modules.N}, in exactly the reference's order, so that state_dicts map one
 * to one; {@link #apply} walks the list the way the reference's {@code forward} does.
 *
 * <p>Input {@code x} (B, C, H, W) and {@code cond} (B); output (B, C, H, W). See {@link
 * ScoreNetConfig} for what {@code cond} and {@code out} mean per configuration.
 */
public final class Ncsnpp extends ScoreNetwork {
  private static final String SIGMAS = "sigmas";

  private final ScoreNetConfig cfg;
  private final List<TorchBlock> modules = new ArrayList<>();
  private final int[] resolutions;
  private final Fir fir;
  private float[] sigmas;

  public Ncsnpp(ScoreNetConfig cfg) {
    this.cfg = cfg;
    this.resolutions = cfg.resolutions();
    this.fir = cfg.fir() ? new Fir(cfg.firKernel()) : null;
    this.sigmas = geometricSigmas(cfg.sigmaMax(), cfg.sigmaMin(), cfg.numScales());
    build();
    seedInitializers(cfg.seed());
  }

  public ScoreNetConfig config() {
    return cfg;
  }

  /** score_sde's {@code get_sigmas}: exp(linspace(log sigma_max, log sigma_min, N)). */
  static float[] geometricSigmas(double max, double min, int n) {
    float[] s = new float[n];
    double a = Math.log(max);
    double b = Math.log(min);
    for (int i = 0; i < n; i++) {
      double t = n == 1 ? 0 : (double) i / (n - 1);
      s[i] = (float) Math.exp(a + (b - a) * t);
    }
    return s;
  }

  private <B extends TorchBlock> B add(B block) {
    child("all_modules." + modules.size(), block);
    modules.add(block);
    return block;
  }

  private boolean attnAt(int level) {
    return cfg.attnResolutions().contains(resolutions[level]);
  }

  private ResBlock resnet(int in, int out, Resample resample) {
    int temb = 4 * cfg.nf();
    if (cfg.resblockType() == ResblockType.DDPM) {
      if (resample != Resample.NONE) {
        throw new AssertionError("DDPM++ blocks do not resample");
      }
      return new ResnetBlockDdpm(
          cfg.nonlinearity(), in, out, temb, cfg.dropout(), cfg.skipRescale(), cfg.initScale());
    }
    return new ResnetBlockBigGan(
        cfg.nonlinearity(),
        in,
        out,
        temb,
        resample,
        fir,
        cfg.dropout(),
        cfg.skipRescale(),
        cfg.initScale());
  }

  private AttnBlock attn(int ch) {
    return new AttnBlock(ch, cfg.skipRescale(), cfg.initScale());
  }

  /** The module list of the reference constructor, in order. */
  private void build() {
    int nf = cfg.nf();
    int levels = cfg.chMult().size();
    int embedDim;
    if (cfg.embeddingType() == EmbeddingType.FOURIER) {
      add(new FourierProjection(nf, cfg.fourierScale()));
      embedDim = 2 * nf;
    } else {
      embedDim = nf;
    }
    if (cfg.conditional()) {
      add(new Dense(embedDim, 4 * nf));
      add(new Dense(4 * nf, 4 * nf));
    }
    int channels = cfg.channels();
    int pyramidIn = channels;
    add(Conv.conv3x3(channels, nf, 1.0));
    List<Integer> hsC = new ArrayList<>();
    hsC.add(nf);
    int inCh = nf;
    for (int level = 0; level < levels; level++) {
      for (int b = 0; b < cfg.numResBlocks(); b++) {
        int outCh = nf * cfg.chMult().get(level);
        add(resnet(inCh, outCh, Resample.NONE));
        inCh = outCh;
        if (attnAt(level)) {
          add(attn(inCh));
        }
        hsC.add(inCh);
      }
      if (level != levels - 1) {
        if (cfg.resblockType() == ResblockType.DDPM) {
          add(new Downsample(inCh, inCh, cfg.resampWithConv(), fir));
        } else {
          add(resnet(inCh, inCh, Resample.DOWN));
        }
        if (cfg.progressiveInput() == ProgressiveInput.INPUT_SKIP) {
          add(new Downsample(pyramidIn, pyramidIn, false, fir));
          add(new Combine(pyramidIn, inCh, cfg.progressiveCombine()));
          if (cfg.progressiveCombine() == CombineMethod.CAT) {
            inCh *= 2;
          }
        } else if (cfg.progressiveInput() == ProgressiveInput.RESIDUAL) {
          add(new Downsample(pyramidIn, inCh, true, fir));
          pyramidIn = inCh;
        }
        hsC.add(inCh);
      }
    }
    inCh = hsC.get(hsC.size() - 1);
    add(resnet(inCh, inCh, Resample.NONE));
    add(attn(inCh));
    add(resnet(inCh, inCh, Resample.NONE));

    int pyramidCh = 0;
    for (int level = levels - 1; level >= 0; level--) {
      for (int b = 0; b < cfg.numResBlocks() + 1; b++) {
        int outCh = nf * cfg.chMult().get(level);
        add(resnet(inCh + hsC.remove(hsC.size() - 1), outCh, Resample.NONE));
        inCh = outCh;
      }
      if (attnAt(level)) {
        add(attn(inCh));
      }
      if (cfg.progressive() != Progressive.NONE) {
        if (level == levels - 1) {
          add(new GroupNorm(inCh));
          if (cfg.progressive() == Progressive.OUTPUT_SKIP) {
            add(Conv.conv3x3(inCh, channels, cfg.initScale()));
            pyramidCh = channels;
          } else {
            add(Conv.conv3x3(inCh, inCh, 1.0));
            pyramidCh = inCh;
          }
        } else {
          if (cfg.progressive() == Progressive.OUTPUT_SKIP) {
            add(new Upsample(pyramidCh, pyramidCh, false, fir));
            add(new GroupNorm(inCh));
            add(Conv.conv3x3(inCh, channels, cfg.initScale()));
            pyramidCh = channels;
          } else {
            add(new Upsample(pyramidCh, inCh, true, fir));
            pyramidCh = inCh;
          }
        }
      }
      if (level != 0) {
        if (cfg.resblockType() == ResblockType.DDPM) {
          add(new Upsample(inCh, inCh, cfg.resampWithConv(), fir));
        } else {
          add(resnet(inCh, inCh, Resample.UP));
        }
      }
    }
    if (!hsC.isEmpty()) {
      throw new AssertionError("unbalanced skip connections");
    }
    if (cfg.progressive() != Progressive.OUTPUT_SKIP) {
      add(new GroupNorm(inCh));
      add(Conv.conv3x3(inCh, channels, cfg.initScale()));
    }
  }

  @Override
  public Shape[] inputShapes(long batch) {
    return new Shape[] {
      new Shape(batch, cfg.channels(), cfg.imageSize(), cfg.imageSize()), new Shape(batch)
    };
  }

  @Override
  public Map<String, Shape> bufferShapes() {
    return Map.of(SIGMAS, new Shape(sigmas.length));
  }

  @Override
  public float[] buffer(String name) {
    if (!SIGMAS.equals(name)) {
      return super.buffer(name);
    }
    return sigmas.clone();
  }

  @Override
  void setBuffer(String name, float[] values) {
    if (!SIGMAS.equals(name)) {
      super.setBuffer(name, values);
    }
    sigmas = values.clone();
  }

  /** Walks {@link #modules} in order, as the reference's {@code m_idx}. */
  private final class Cursor {
    private int next;

    @SuppressWarnings("unchecked")
    <T> T take(Class<T> type) {
      TorchBlock b = modules.get(next++);
      if (!type.isInstance(b)) {
        throw new AssertionError(
            "module " + (next - 1) + " is " + b.getClass().getSimpleName() + ", not " + type);
      }
      return (T) b;
    }

    Layer layer() {
      return take(Layer.class);
    }

    ResBlock res() {
      return take(ResBlock.class);
    }

    boolean done() {
      return next == modules.size();
    }
  }

  private void checkInputs(NDArray x, NDArray cond) {
    Shape xs = x.getShape();
    Shape expected = inputShapes(xs.dimension() > 0 ? xs.get(0) : 1)[0];
    InvalidInputException.require(
        xs.equals(expected),
        "%s expects x of shape (B, %d, %d, %d), got %s",
        cfg.name(),
        cfg.channels(),
        cfg.imageSize(),
        cfg.imageSize(),
        xs);
    InvalidInputException.require(
        cond.getShape().equals(new Shape(xs.get(0))),
        "%s expects cond of shape (%d), got %s",
        cfg.name(),
        xs.get(0),
        cond.getShape());
  }

  @Override
  public NDArray apply(ParameterStore ps, NDArray x, NDArray cond, boolean training) {
    checkInputs(x, cond);
    Cursor m = new Cursor();
    NDArray actTemb = timeEmbedding(ps, m, cond, training);
    NDArray xin = cfg.centered() ? x : NativeArrays.mul(x, 2).subi(1);
    try {
      NDArray h = unet(ps, m, xin, actTemb, training);
      if (!m.done()) {
        throw new AssertionError("forward used " + m.next + " of " + modules.size() + " modules");
      }
      if (!cfg.scaleBySigma()) {
        return h;
      }
      try (h;
          NDArray used = usedSigmas(cond);
          NDArray s4 = used.reshape(x.getShape().get(0), 1, 1, 1)) {
        return h.div(s4);
      }
    } finally {
      if (actTemb != null) {
        actTemb.close();
      }
      if (xin != x) {
        xin.close();
      }
    }
  }

  /** {@code act(temb)} after the embedding and the two dense layers, or null if unconditional. */
  private NDArray timeEmbedding(ParameterStore ps, Cursor m, NDArray cond, boolean training) {
    NDArray temb;
    if (cfg.embeddingType() == EmbeddingType.FOURIER) {
      try (NDArray logSigma = cond.log()) {
        temb = m.take(FourierProjection.class).apply(ps, logSigma, training);
      }
    } else {
      temb = positionalEmbedding(cond, cfg.nf());
    }
    if (!cfg.conditional()) {
      temb.close();
      return null;
    }
    Nonlinearity act = cfg.nonlinearity();
    try (NDArray e0 = temb;
        NDArray d0 = m.take(Dense.class).apply(ps, e0, training);
        NDArray a0 = act.apply(d0);
        NDArray d1 = m.take(Dense.class).apply(ps, a0, training)) {
      return act.apply(d1);
    }
  }

  /** DDPM's {@code get_timestep_embedding(timesteps, dim)} with max_positions 10000. */
  static NDArray positionalEmbedding(NDArray t, int dim) {
    int half = dim / 2;
    double step = Math.log(10000) / (half - 1);
    NDManager mgr = t.getManager();
    long b = t.getShape().get(0);
    // toType(.., false) returns t itself when it is float32 already: only a converted copy is ours
    NDArray tf = t.toType(ai.djl.ndarray.types.DataType.FLOAT32, false);
    try (NDArray range = mgr.arange(0f, (float) half);
        NDArray scaled = NativeArrays.mul(range, -step);
        NDArray freqs = scaled.exp();
        NDArray col = tf.reshape(b, 1);
        NDArray row = freqs.reshape(1, half);
        NDArray args = col.mul(row);
        NDArray sin = args.sin();
        NDArray cos = args.cos()) {
      NDArray emb = sin.concat(cos, 1);
      if (dim % 2 == 0) {
        return emb;
      }
      try (emb) {
        return emb.pad(new Shape(0, 1), 0);
      }
    } finally {
      if (tf != t) {
        tf.close();
      }
    }
  }

  /** The per-sample sigma that {@code scale_by_sigma} divides by. */
  private NDArray usedSigmas(NDArray cond) {
    if (cfg.embeddingType() == EmbeddingType.FOURIER) {
      return cond.duplicate();
    }
    float[] c = cond.toFloatArray();
    float[] s = new float[c.length];
    for (int i = 0; i < c.length; i++) {
      int idx = (int) c[i]; // torch's .int() truncates toward zero
      InvalidInputException.require(
          idx >= 0 && idx < sigmas.length,
          "cond %s is outside the %d discrete noise levels",
          c[i],
          sigmas.length);
      s[i] = sigmas[idx];
    }
    return NativeArrays.copyOf(cond.getManager(), s, new Shape(s.length));
  }

  private NDArray unet(
      ParameterStore ps, Cursor m, NDArray xin, NDArray actTemb, boolean training) {
    int levels = cfg.chMult().size();
    boolean ddpm = cfg.resblockType() == ResblockType.DDPM;
    Nonlinearity act = cfg.nonlinearity();

    // ---- down path
    NDArray inputPyramid = cfg.progressiveInput() != ProgressiveInput.NONE ? xin : null;
    boolean ownPyramid = false; // true when inputPyramid is neither xin nor an entry of hs
    List<NDArray> hs = new ArrayList<>();
    hs.add(m.take(Conv.class).apply(ps, xin, training));
    for (int level = 0; level < levels; level++) {
      for (int b = 0; b < cfg.numResBlocks(); b++) {
        NDArray h = m.res().apply(ps, last(hs), actTemb, training);
        if (attnAt(level)) {
          try (NDArray pre = h) {
            h = m.take(AttnBlock.class).apply(ps, pre, training);
          }
        }
        hs.add(h);
      }
      if (level != levels - 1) {
        NDArray h =
            ddpm
                ? m.layer().apply(ps, last(hs), training)
                : m.res().apply(ps, last(hs), actTemb, training);
        if (cfg.progressiveInput() == ProgressiveInput.INPUT_SKIP) {
          NDArray down = m.layer().apply(ps, inputPyramid, training);
          if (ownPyramid) {
            inputPyramid.close();
          }
          inputPyramid = down;
          ownPyramid = true;
          try (NDArray pre = h) {
            h = m.take(Combine.class).apply(ps, inputPyramid, pre, training);
          }
        } else if (cfg.progressiveInput() == ProgressiveInput.RESIDUAL) {
          try (NDArray down = m.layer().apply(ps, inputPyramid, training);
              NDArray pre = h) {
            h = Ops.residual(down, pre, cfg.skipRescale());
          }
          inputPyramid = h; // aliases the entry of hs added below
          ownPyramid = false;
        }
        hs.add(h);
      }
    }
    if (ownPyramid) {
      inputPyramid.close();
    }

    // ---- middle
    NDArray h;
    try (NDArray m1 = m.res().apply(ps, last(hs), actTemb, training);
        NDArray m2 = m.take(AttnBlock.class).apply(ps, m1, training)) {
      h = m.res().apply(ps, m2, actTemb, training);
    }

    // ---- up path
    NDArray pyramid = null;
    for (int level = levels - 1; level >= 0; level--) {
      for (int b = 0; b < cfg.numResBlocks() + 1; b++) {
        try (NDArray skip = hs.remove(hs.size() - 1);
            NDArray pre = h;
            NDArray cat = pre.concat(skip, 1)) {
          h = m.res().apply(ps, cat, actTemb, training);
        }
      }
      if (attnAt(level)) {
        try (NDArray pre = h) {
          h = m.take(AttnBlock.class).apply(ps, pre, training);
        }
      }
      if (cfg.progressive() != Progressive.NONE) {
        if (level == levels - 1) {
          pyramid = normActConv(ps, m, act, h, training);
        } else if (cfg.progressive() == Progressive.OUTPUT_SKIP) {
          try (NDArray up = m.layer().apply(ps, pyramid, training);
              NDArray ph = normActConv(ps, m, act, h, training)) {
            pyramid.close();
            pyramid = up.add(ph);
          }
        } else {
          try (NDArray up = m.layer().apply(ps, pyramid, training);
              NDArray pre = h) {
            pyramid.close();
            pyramid = Ops.residual(up, pre, cfg.skipRescale());
          }
          h = pyramid; // h and pyramid alias until h moves on
        }
      }
      if (level != 0) {
        NDArray next =
            ddpm ? m.layer().apply(ps, h, training) : m.res().apply(ps, h, actTemb, training);
        if (h != pyramid) {
          h.close();
        }
        h = next;
      }
    }
    if (!hs.isEmpty()) {
      throw new AssertionError("unused skip connections");
    }
    if (cfg.progressive() == Progressive.OUTPUT_SKIP) {
      if (h != pyramid) {
        h.close();
      }
      return pyramid;
    }
    try (NDArray pre = h) {
      return normActConv(ps, m, act, pre, training);
    } finally {
      if (pyramid != null && pyramid != h) {
        pyramid.close();
      }
    }
  }

  /** {@code conv(act(GroupNorm(h)))} over the next two modules. */
  private static NDArray normActConv(
      ParameterStore ps, Cursor m, Nonlinearity act, NDArray h, boolean training) {
    try (NDArray a = ResBlock.normAct(ps, m.take(GroupNorm.class), act, h, training)) {
      return m.take(Conv.class).apply(ps, a, training);
    }
  }

  private static NDArray last(List<NDArray> hs) {
    return hs.get(hs.size() - 1);
  }
}
