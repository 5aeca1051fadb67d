package io.scoreflow.sde;

/**
 * The noise rate β(t) of a variance-preserving SDE, with its integral {@code B(t) = ∫0^t β}. Each
 * integral is written so that it keeps full relative precision as t goes to 0 (no cancellation).
 */
sealed interface BetaSchedule {

  double beta(double t);

  double integral(double t);

  /** {@code vp-linear}: β = βmin + (βmax − βmin) t. */
  record Linear(double betaMin, double betaMax) implements BetaSchedule {
    @Override
    public double beta(double t) {
      return betaMin + (betaMax - betaMin) * t;
    }

    @Override
    public double integral(double t) {
      return t * (betaMin + 0.5 * (betaMax - betaMin) * t);
    }
  }

  /** {@code vp-constant}: β constant. */
  record Constant(double beta) implements BetaSchedule {
    @Override
    public double beta(double t) {
      return beta;
    }

    @Override
    public double integral(double t) {
      return beta * t;
    }
  }

  /** {@code vp-poly}: β = (b + a t)^ρ with b = βmin^(1/ρ), a = βmax^(1/ρ) − b. */
  record Poly(double b, double a, double rho) implements BetaSchedule {
    static Poly of(double betaMin, double betaMax, double rho) {
      double b = Math.pow(betaMin, 1 / rho);
      return new Poly(b, Math.pow(betaMax, 1 / rho) - b, rho);
    }

    @Override
    public double beta(double t) {
      return Math.pow(b + a * t, rho);
    }

    @Override
    public double integral(double t) {
      if (a == 0) {
        return Math.pow(b, rho) * t;
      }
      // ((b+at)^(ρ+1) − b^(ρ+1)) / (a(ρ+1)), without cancelling at small t.
      double u = a * t / b;
      return Math.pow(b, rho + 1) * Math.expm1((rho + 1) * Math.log1p(u)) / (a * (rho + 1));
    }
  }

  /** {@code vp-exp}: β = βmin (βmax/βmin)^t. */
  record Exp(double betaMin, double logRatio) implements BetaSchedule {
    static Exp of(double betaMin, double betaMax) {
      return new Exp(betaMin, Math.log(betaMax / betaMin));
    }

    @Override
    public double beta(double t) {
      return betaMin * Math.exp(logRatio * t);
    }

    @Override
    public double integral(double t) {
      return logRatio == 0 ? betaMin * t : betaMin * Math.expm1(logRatio * t) / logRatio;
    }
  }
}
