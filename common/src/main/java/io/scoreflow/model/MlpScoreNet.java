package io.scoreflow.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import io.scoreflow.InvalidInputException;
import io.scoreflow.model.ScoreNetConfig.EmbeddingType;
import java.util.ArrayList;
import java.util.List;

/**
 * The MLP score network of {@link MlpConfig}: {@code x} (B, d) and {@code cond} (B) to {@code out}
 * (B, d). State dict names: {@code embed.W} (Fourier only), {@code layers.N.weight/bias}.
 */
public final class MlpScoreNet extends ScoreNetwork {
  private final MlpConfig cfg;
  private final FourierProjection fourier;
  private final List<Dense> layers = new ArrayList<>();

  public MlpScoreNet(MlpConfig cfg) {
    this.cfg = cfg;
    boolean isFourier = cfg.embeddingType() == EmbeddingType.FOURIER;
    fourier =
        isFourier
            ? child("embed", new FourierProjection(cfg.embeddingDim() / 2, cfg.fourierScale()))
            : null;
    int in = cfg.dim() + cfg.embeddingDim();
    for (int i = 0; i < cfg.layers(); i++) {
      layers.add(child("layers." + i, new Dense(in, cfg.hidden())));
      in = cfg.hidden();
    }
    layers.add(child("layers." + cfg.layers(), new Dense(in, cfg.dim())));
    seedInitializers(cfg.seed());
  }

  public MlpConfig config() {
    return cfg;
  }

  @Override
  public Shape[] inputShapes(long batch) {
    return new Shape[] {new Shape(batch, cfg.dim()), new Shape(batch)};
  }

  @Override
  public NDArray apply(ParameterStore ps, NDArray x, NDArray cond, boolean training) {
    long b = x.getShape().get(0);
    InvalidInputException.require(
        x.getShape().equals(new Shape(b, cfg.dim())) && cond.getShape().equals(new Shape(b)),
        "mlp expects x (B, %d) and cond (B), got %s and %s",
        cfg.dim(),
        x.getShape(),
        cond.getShape());
    NDArray emb;
    if (fourier != null) {
      try (NDArray logSigma = cond.log()) {
        emb = fourier.apply(ps, logSigma, training);
      }
    } else {
      emb = Ncsnpp.positionalEmbedding(cond, cfg.embeddingDim());
    }
    NDArray h;
    try (emb) {
      h = x.concat(emb, 1);
    }
    for (int i = 0; i < layers.size(); i++) {
      NDArray lin;
      try (NDArray pre = h) {
        lin = layers.get(i).apply(ps, pre, training);
      }
      if (i == layers.size() - 1) {
        h = lin;
      } else {
        try (lin) {
          h = cfg.nonlinearity().apply(lin);
        }
      }
    }
    if (!cfg.scaleBySigma()) {
      return h;
    }
    try (NDArray raw = h;
        NDArray s = cond.reshape(b, 1)) {
      return raw.div(s);
    }
  }
}
