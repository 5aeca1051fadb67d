package io.scoreflow.sde;

/** A variance-exploding SDE: f = 0, a1 = 1, g² = dσ²/dt and a2 = σ²(t) − σ²(0). */
record VeSde(SdeSpec spec, SigmaSchedule sigma) implements ForwardSde {

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
    ForwardSde.checkTime(t, horizon());
    return 0;
  }

  @Override
  public double g(double t) {
    return Math.sqrt(sigma.sigmaSquaredRate(ForwardSde.checkTime(t, horizon())));
  }

  @Override
  public double meanCoeff(double t) {
    ForwardSde.checkTime(t, horizon());
    return 1;
  }

  @Override
  public double variance(double t) {
    return sigma.sigmaSquaredIncrement(ForwardSde.checkTime(t, horizon()));
  }

  @Override
  public double noiseLevel(double t) {
    return sigma(t);
  }

  /** σ(t), the noise level the NCSN++ network is conditioned on. */
  public double sigma(double t) {
    return Math.sqrt(sigma.sigmaSquared(ForwardSde.checkTime(t, horizon())));
  }
}
