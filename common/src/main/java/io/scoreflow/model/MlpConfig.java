package io.scoreflow.model;

import io.scoreflow.InvalidInputException;
import io.scoreflow.model.ScoreNetConfig.EmbeddingType;

/**
 * An MLP score network for vectors in R^d: the time embedding of {@code cond} (sinusoidal of {@code
 * cond}, or Fourier features of {@code log cond}, as in {@link ScoreNetConfig}) is concatenated to
 * {@code x}, followed by {@code layers} dense layers of width {@code hidden} with the activation,
 * and a dense output layer back to d.
 *
 * <p>{@code cond} and {@code out} mean what they mean for the U-Net with the same embedding type:
 * positional, {@code cond = 999 t} and score {@code = -out / std(t)}; Fourier, {@code cond =
 * sigma(t)} and, with {@code scaleBySigma}, {@code out} already divided by sigma.
 *
 * @param dim data dimension d
 * @param hidden width of the hidden layers
 * @param layers number of hidden layers (at least 1)
 * @param embeddingDim size of the time embedding (even)
 * @param embeddingType time embedding
 * @param fourierScale std of the frozen Fourier weights
 * @param scaleBySigma divide the output by {@code cond} (Fourier embedding only)
 * @param nonlinearity activation between layers
 * @param seed initialization seed
 */
public record MlpConfig(
    int dim,
    int hidden,
    int layers,
    int embeddingDim,
    EmbeddingType embeddingType,
    double fourierScale,
    boolean scaleBySigma,
    Nonlinearity nonlinearity,
    long seed) {

  public MlpConfig {
    InvalidInputException.require(dim > 0, "mlp: dim must be positive, got %d", dim);
    InvalidInputException.require(hidden > 0, "mlp: hidden must be positive, got %d", hidden);
    InvalidInputException.require(layers >= 1, "mlp: layers must be at least 1, got %d", layers);
    InvalidInputException.require(
        embeddingDim >= 4 && embeddingDim % 2 == 0,
        "mlp: embedding size must be even and at least 4, got %d",
        embeddingDim);
    InvalidInputException.require(
        !scaleBySigma || embeddingType == EmbeddingType.FOURIER,
        "mlp: scale_by_sigma needs the Fourier embedding (cond = sigma)");
  }

  /** Defaults for d-dimensional data: 3 SiLU layers of width 128, positional embedding of 32. */
  public static MlpConfig of(int dim) {
    return new MlpConfig(
        dim, 128, 3, 32, EmbeddingType.POSITIONAL, 16, false, Nonlinearity.SWISH, 42);
  }

  /** The VE flavour: Fourier features of log sigma, output divided by sigma. */
  public static MlpConfig veOf(int dim) {
    return new MlpConfig(dim, 128, 3, 32, EmbeddingType.FOURIER, 16, true, Nonlinearity.SWISH, 42);
  }
}
