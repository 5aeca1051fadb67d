package io.scoreflow.sde;

import io.scoreflow.math.Quadrature;
import java.util.function.DoubleUnaryOperator;

/**
 * A forward SDE from arbitrary f and g: {@code a1 = exp(−∫0^t f)} and {@code a2 = ∫0^t exp(−2∫s^t
 * f) g(s)² ds}, each by adaptive quadrature (the inner integral is nested).
 */
record QuadratureSde(
    SdeSpec spec, double horizon, DoubleUnaryOperator drift, DoubleUnaryOperator diffusion)
    implements ForwardSde {

  private static final Quadrature QUADRATURE = Quadrature.withTolerance(1e-13, 1e-300);

  @Override
  public String name() {
    return spec.name();
  }

  @Override
  public double f(double t) {
    return drift.applyAsDouble(ForwardSde.checkTime(t, horizon));
  }

  @Override
  public double g(double t) {
    return diffusion.applyAsDouble(ForwardSde.checkTime(t, horizon));
  }

  @Override
  public double meanCoeff(double t) {
    return Math.exp(-QUADRATURE.integrate(drift, 0, ForwardSde.checkTime(t, horizon)));
  }

  @Override
  public double variance(double t) {
    ForwardSde.checkTime(t, horizon);
    return QUADRATURE.integrate(
        s -> {
          double gs = diffusion.applyAsDouble(s);
          return Math.exp(-2 * QUADRATURE.integrate(drift, s, t)) * gs * gs;
        },
        0,
        t);
  }
}
