package io.scoreflow.sde;

import io.scoreflow.InvalidInputException;
import java.util.Locale;

/**
 * The forward SDE {@code dx = -f(t) x dt + g(t) dB} on {@code [0, T]}, with {@code x_t | x_0 ~
 * N(a1(t) x_0, a2(t) I)}.
 *
 * <p>Every method taking a time rejects {@code t} outside {@code [0, T]} with an {@link
 * InvalidInputException}: schedules are defined on the horizon only, and a time outside it is a
 * configuration error, not a value to extrapolate.
 */
public sealed interface ForwardSde permits VpSde, VeSde, QuadratureSde {

  /** The schedule's name, e.g. {@code vp-linear}. */
  String name();

  /** The horizon T. */
  double horizon();

  /** The drift coefficient f(t) of {@code -f(t) x dt}. */
  double f(double t);

  /** The diffusion coefficient g(t). */
  double g(double t);

  /** The mean coefficient {@code a1(t) = exp(-∫0^t f)}. */
  double meanCoeff(double t);

  /** The transition variance {@code a2(t) = ∫0^t exp(-2∫s^t f) g(s)^2 ds}. */
  double variance(double t);

  /**
   * The noise level a σ-conditioned network (NCSN++) sees: the marginal std {@code √a2(t)}, or for
   * VE schedules σ(t) itself, as score_sde conditions on it (they differ by σmin² under the root).
   */
  default double noiseLevel(double t) {
    return Math.sqrt(variance(t));
  }

  /** The variance of the exact-variance prior {@code N(0, a2(T) I)}. */
  default double priorVariance() {
    return variance(horizon());
  }

  /** The parameters that define this schedule, for reports and checkpoint manifests. */
  SdeSpec spec();

  /** Rejects a time outside {@code [0, horizon]}. */
  static double checkTime(double t, double horizon) {
    if (!(t >= 0 && t <= horizon)) {
      throw new InvalidInputException(
          String.format(Locale.ROOT, "time t=%s is outside [0, T] with T=%s", t, horizon));
    }
    return t;
  }
}
