package io.scoreflow.theory;

import static io.scoreflow.InvalidInputException.require;

import io.scoreflow.InvalidInputException;
import io.scoreflow.sample.Corrector;
import io.scoreflow.sample.Predictor;
import io.scoreflow.sde.ForwardSde;

/**
 * The exact output law of the Euler–Maruyama reverse sampler on Gaussian data.
 *
 * <p>For data {@code N(m·1, S² I)} the forward marginal at time s is {@code N(a1(s) m, v(s))} with
 * {@code v = a1² S² + a2}, so the exact score {@code −(y − a1 m)/v} is linear in y. One sampler
 * step {@code y ← y + η (f y + g² score) + √η g ξ} then maps a Gaussian to a Gaussian: with {@code
 * c = 1 + η f − η g² / v}, mean {@code μ ← c μ + η g² a1 m / v} and variance {@code V ← c² V + η
 * g²}. Coordinates are independent and identical, so one scalar recursion gives the whole law, with
 * no sampling noise: this is the project's ground truth for sampler correctness.
 */
public final class SamplerRecursion {

  private SamplerRecursion() {}

  /**
   * The law of the sampler's output after {@code steps} steps from the exact-variance prior {@code
   * N(0, a2(T) I)}, with η = T/K and the score evaluated at {@code s = T − kη}, k = 0..K−1.
   */
  public static GaussianLaw eulerMaruyama(ForwardSde sde, int steps, GaussianLaw data) {
    return recursion(sde, steps, data, 1.0, true);
  }

  /**
   * The law of the probability-flow ODE sampler's output (Euler steps {@code y ← y + η (f y + ½ g²
   * score)}, same prior and times): {@code c = 1 + η f − ½ η g² / v}, mean {@code μ ← c μ + ½ η g²
   * a1 m / v}, variance {@code V ← c² V}.
   */
  public static GaussianLaw probabilityFlow(ForwardSde sde, int steps, GaussianLaw data) {
    return recursion(sde, steps, data, 0.5, false);
  }

  /**
   * The law of a predictor–corrector sampler's output on Gaussian data (same prior and times). A
   * predictor step {@code a y + b score + c ξ} maps (μ, V) to {@code (κ μ + b a1 m / v, κ² V + c²)}
   * with {@code κ = a − b / v}; an annealed Langevin step of size ε is the same map with {@code a =
   * 1, b = ε, c² = 2ε}. The Langevin corrector's step depends on the batch, so it has no recursion.
   *
   * @throws InvalidInputException for the Langevin corrector
   */
  public static GaussianLaw predictorCorrector(
      ForwardSde sde,
      int steps,
      Predictor predictor,
      Corrector corrector,
      boolean denoise,
      GaussianLaw data) {
    require(steps >= 1, "--steps must be >= 1, got %s", steps);
    if (corrector instanceof Corrector.Langevin) {
      throw new InvalidInputException(
          "corrector 'langevin' has no exact recursion (its step depends on the batch)");
    }
    double horizon = sde.horizon();
    double eta = horizon / steps;
    double mean = 0;
    double var = sde.priorVariance();
    double dataVar = data.std() * data.std();
    for (int k = 0; k < steps; k++) {
      double s = horizon - k * eta;
      double a1 = sde.meanCoeff(s);
      double v = a1 * a1 * dataVar + sde.variance(s);
      if (corrector instanceof Corrector.Ald ald) {
        double epsilon = ald.stepSize(sde, s, eta);
        double c = 1 - epsilon / v;
        for (int i = 0; i < ald.steps(); i++) {
          mean = c * mean + epsilon * a1 * data.mean() / v;
          var = c * c * var + 2 * epsilon;
        }
      }
      Predictor.Step p = predictor.at(sde, s, eta);
      double c = p.a() - p.b() / v;
      mean = c * mean + p.b() * a1 * data.mean() / v;
      var = c * c * var + (denoise && k == steps - 1 ? 0 : p.noise() * p.noise());
    }
    return new GaussianLaw(mean, Math.sqrt(var), data.dim());
  }

  /**
   * {@code y ← y + η (f y + w g² score) [+ √η g ξ]} on Gaussian data, as a mean/variance recursion.
   *
   * @param scoreWeight w: 1 for the SDE, ½ for the probability-flow ODE
   * @param noise whether each step adds {@code √η g ξ}
   */
  private static GaussianLaw recursion(
      ForwardSde sde, int steps, GaussianLaw data, double scoreWeight, boolean noise) {
    require(steps >= 1, "--steps must be >= 1, got %s", steps);
    require(data.std() >= 0 && Double.isFinite(data.std()), "--data-std must be >= 0");
    require(Double.isFinite(data.mean()), "--data-mean must be finite");
    double horizon = sde.horizon();
    double eta = horizon / steps;
    double mean = 0;
    double var = sde.priorVariance();
    double dataVar = data.std() * data.std();
    for (int k = 0; k < steps; k++) {
      double s = horizon - k * eta;
      double a1 = sde.meanCoeff(s);
      double v = a1 * a1 * dataVar + sde.variance(s);
      double g = sde.g(s);
      double g2 = g * g;
      double c = 1 + eta * sde.f(s) - scoreWeight * eta * g2 / v;
      mean = c * mean + scoreWeight * eta * g2 * a1 * data.mean() / v;
      var = c * c * var + (noise ? eta * g2 : 0);
    }
    return new GaussianLaw(mean, Math.sqrt(var), data.dim());
  }

  /** The exact W2 between the sampler's output law and the data. */
  public static double w2(ForwardSde sde, int steps, GaussianLaw data) {
    return eulerMaruyama(sde, steps, data).w2(data);
  }
}
