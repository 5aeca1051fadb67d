package io.scoreflow.sde;

/**
 * The noise level σ(t) of a variance-exploding SDE, through σ²: {@code g² = dσ²/dt} and {@code a2 =
 * σ²(t) − σ²(0)}. Deriving g from σ² (rather than score_sde's {@code g = σ √(2 ln(σmax/σmin))},
 * which is right only for the geometric schedule) keeps every schedule consistent with its own
 * transition variance.
 */
sealed interface SigmaSchedule {

  /** σ²(t). */
  double sigmaSquared(double t);

  /** g²(t) = dσ²/dt. */
  double sigmaSquaredRate(double t);

  /** σ²(t) − σ²(0), without cancellation at small t. */
  double sigmaSquaredIncrement(double t);

  /** {@code ve-exp}: σ = σmin (σmax/σmin)^t. */
  record Exp(double sigmaMin, double logRatio) implements SigmaSchedule {
    static Exp of(double sigmaMin, double sigmaMax) {
      return new Exp(sigmaMin, Math.log(sigmaMax / sigmaMin));
    }

    @Override
    public double sigmaSquared(double t) {
      return sigmaMin * sigmaMin * Math.exp(2 * logRatio * t);
    }

    @Override
    public double sigmaSquaredRate(double t) {
      return 2 * logRatio * sigmaSquared(t);
    }

    @Override
    public double sigmaSquaredIncrement(double t) {
      return sigmaMin * sigmaMin * Math.expm1(2 * logRatio * t);
    }
  }

  /** {@code ve-constant}: σ² = σmin² + c t with c = σmax² − σmin², so g = √c. */
  record Linear(double sigmaMin, double c) implements SigmaSchedule {
    @Override
    public double sigmaSquared(double t) {
      return sigmaMin * sigmaMin + c * t;
    }

    @Override
    public double sigmaSquaredRate(double t) {
      return c;
    }

    @Override
    public double sigmaSquaredIncrement(double t) {
      return c * t;
    }
  }

  /** {@code ve-sqrt}: σ² = σmin² + c t² with c = σmax² − σmin², so g = √(2ct). */
  record Quadratic(double sigmaMin, double c) implements SigmaSchedule {
    @Override
    public double sigmaSquared(double t) {
      return sigmaMin * sigmaMin + c * t * t;
    }

    @Override
    public double sigmaSquaredRate(double t) {
      return 2 * c * t;
    }

    @Override
    public double sigmaSquaredIncrement(double t) {
      return c * t * t;
    }
  }

  /**
   * {@code ve-poly}: σ = (b + a t)^ρ with b = σmin^(1/ρ), a = σmax^(1/ρ) − b, so g = √(2ρa) (b +
   * at)^(ρ−½).
   */
  record Poly(double b, double a, double rho) implements SigmaSchedule {
    static Poly of(double sigmaMin, double sigmaMax, double rho) {
      double b = Math.pow(sigmaMin, 1 / rho);
      return new Poly(b, Math.pow(sigmaMax, 1 / rho) - b, rho);
    }

    @Override
    public double sigmaSquared(double t) {
      return Math.pow(b + a * t, 2 * rho);
    }

    @Override
    public double sigmaSquaredRate(double t) {
      return 2 * rho * a * Math.pow(b + a * t, 2 * rho - 1);
    }

    @Override
    public double sigmaSquaredIncrement(double t) {
      return Math.pow(b, 2 * rho) * Math.expm1(2 * rho * Math.log1p(a * t / b));
    }
  }
}
