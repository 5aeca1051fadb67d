package io.scoreflow.sde;

/**
 * A variance-preserving SDE: f = β/2, g = √β, so {@code a1 = exp(−B/2)} and {@code a2 = 1 − a1² =
 * −expm1(−B)} with {@code B = ∫0^t β}.
 */
record VpSde(SdeSpec spec, BetaSchedule beta) implements ForwardSde {

  @Override
  public String name() {
    return spec.name();
  }

  @Override
  public double horizon() {
    return spec.horizon();
  }

  @Override
  public double f(double t) {
    return 0.5 * beta.beta(ForwardSde.checkTime(t, horizon()));
  }

  @Override
  public double g(double t) {
    return Math.sqrt(beta.beta(ForwardSde.checkTime(t, horizon())));
  }

  @Override
  public double meanCoeff(double t) {
    return Math.exp(-0.5 * beta.integral(ForwardSde.checkTime(t, horizon())));
  }

  @Override
  public double variance(double t) {
    return -Math.expm1(-beta.integral(ForwardSde.checkTime(t, horizon())));
  }
}
