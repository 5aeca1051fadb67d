package io.scoreflow.sample;

import static io.scoreflow.InvalidInputException.require;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.scoreflow.math.DormandPrince;
import io.scoreflow.sde.ForwardSde;
import java.util.function.IntConsumer;

/**
 * The probability-flow ODE {@code dx/dt = −f x − ½ g² ∇log p_t(x)} integrated from the
 * exact-variance prior at T down to a small time ε with adaptive RK45 ({@link DormandPrince}), as
 * score_sde's {@code get_ode_sampler}; then one Euler step of the same ODE from ε to 0, so that, as
 * every other sampler here, it returns the state at time 0 having evaluated the score at positive
 * times only (a noise-predicting network's score scale {@code 1/√a2(t)} is infinite at 0 for VP).
 *
 * <p>ε is score_sde's sampling eps: 1e-3 for VP (and generic) schedules, 1e-5 for VE. The number of
 * score evaluations is the solver's plus one.
 */
public final class Rk45FlowSampler implements Sampler {

  private final ForwardSde sde;
  private final int progressSteps;
  private final DormandPrince.Options options;
  private final double eps;

  /**
   * @param progressSteps the resolution of the progress this sampler reports (its {@link #steps}):
   *     the fraction of [ε, T] integrated, in 1/progressSteps
   */
  public Rk45FlowSampler(ForwardSde sde, int progressSteps, DormandPrince.Options options) {
    this(sde, progressSteps, options, defaultEps(sde));
  }

  public Rk45FlowSampler(
      ForwardSde sde, int progressSteps, DormandPrince.Options options, double eps) {
    require(progressSteps >= 1, "--steps must be >= 1, got %s", progressSteps);
    require(eps > 0 && eps < sde.horizon(), "eps must be in (0, T=%s), got %s", sde.horizon(), eps);
    this.sde = sde;
    this.progressSteps = progressSteps;
    this.options = options;
    this.eps = eps;
  }

  /** score_sde's sampling eps for the family of {@code sde}. */
  public static double defaultEps(ForwardSde sde) {
    return sde.name().startsWith("ve-") ? 1e-5 : 1e-3;
  }

  public double eps() {
    return eps;
  }

  public DormandPrince.Options options() {
    return options;
  }

  @Override
  public int steps() {
    return progressSteps;
  }

  /** The flow's drift at time t, in x's manager. */
  static NDArray drift(ForwardSde sde, ScoreFunction score, NDArray x, double t) {
    double g = sde.g(t);
    return score.score(x, t).muli(-0.5 * g * g).subi(x.mul(sde.f(t)));
  }

  /**
   * Integrates the flow from {@code xT} at T to ε (no final Euler step); the result belongs to
   * {@code manager}.
   */
  public DormandPrince.Solution integrate(
      ScoreFunction score, NDArray xT, NDManager manager, IntConsumer progress) {
    double horizon = sde.horizon();
    int[] reported = {0};
    return DormandPrince.solve(
        (t, y) -> drift(sde, score, y, t),
        horizon,
        xT,
        eps,
        options,
        manager,
        t -> {
          int k = (int) Math.floor(progressSteps * (horizon - t) / (horizon - eps));
          k = Math.min(progressSteps - 1, k);
          if (k > reported[0]) {
            reported[0] = k;
            progress.accept(k);
          }
        });
  }

  @Override
  public NDArray sample(
      ScoreFunction score, Shape shape, DataType dtype, NDManager manager, IntConsumer progress) {
    try (NDManager scope = manager.newSubManager()) {
      NDArray prior = scope.randomNormal(0f, (float) Math.sqrt(sde.priorVariance()), shape, dtype);
      NDArray y = integrate(score, prior, scope, progress).y();
      // x(0) = x(ε) − ε · drift(x(ε), ε): the last step of the Euler samplers, from ε.
      NDArray out = y.sub(drift(sde, score, y, eps).muli(eps));
      out.attach(manager);
      progress.accept(progressSteps);
      return out;
    }
  }
}
