package io.scoreflow.run;

import io.scoreflow.sde.ForwardSde;

/**
 * How a network's raw output {@code out = net(x, cond)} becomes a score, for any forward SDE:
 * {@code score(x, t) = scale(t) · out}, with the conditioning {@code cond(t)} the network was built
 * for.
 */
public sealed interface Parametrisation {

  /** The network's conditioning input at time t. */
  double cond(ForwardSde sde, double t);

  /** The factor that turns the network's output into the score at time t. */
  double scoreScale(ForwardSde sde, double t);

  /**
   * DDPM++ (positional embedding of {@code 999·t/T}): the network predicts the noise z of {@code
   * x_t = a1 x_0 + √a2 z}, so {@code score = −out / √a2(t)}. With λ = a2 the DSM loss is then
   * {@code ‖out − z‖²}, score_sde's objective for VP models.
   */
  record NoisePrediction() implements Parametrisation {
    @Override
    public double cond(ForwardSde sde, double t) {
      return 999.0 * t / sde.horizon();
    }

    @Override
    public double scoreScale(ForwardSde sde, double t) {
      return -1 / Math.sqrt(sde.variance(t));
    }
  }

  /**
   * NCSN++ (Fourier embedding of log σ with {@code scale_by_sigma}): the network is conditioned on
   * the noise level and already divides by it, so its output is the score.
   */
  record SigmaScaled() implements Parametrisation {
    @Override
    public double cond(ForwardSde sde, double t) {
      return sde.noiseLevel(t);
    }

    @Override
    public double scoreScale(ForwardSde sde, double t) {
      return 1;
    }
  }
}
