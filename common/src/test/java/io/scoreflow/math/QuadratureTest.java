package io.scoreflow.math;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class QuadratureTest {

  private final Quadrature q = Quadrature.withTolerance(1e-13, 1e-300);

  @Test
  void integratesKnownFunctionsToRelativeTolerance() {
    assertEquals(2.0, q.integrate(Math::sin, 0, Math.PI), 2e-13);
    assertEquals(Math.expm1(3), q.integrate(Math::exp, 0, 3), 1e-12 * Math.expm1(3));
    assertEquals(2.0 / 3, q.integrate(Math::sqrt, 0, 1), 1e-12); // endpoint singularity in f'
    assertEquals(Math.log(1e6), q.integrate(x -> 1 / x, 1e-6, 1), 1e-11 * Math.log(1e6));
  }

  @Test
  void reversedAndEmptyIntervals() {
    assertEquals(-q.integrate(Math::exp, 0, 1), q.integrate(Math::exp, 1, 0));
    assertEquals(0.0, q.integrate(Math::exp, 0.5, 0.5));
  }

  @Test
  void keepsRelativePrecisionForTinyIntegrals() {
    double expected = 1e-30 / 3; // ∫0^1e-10 x² dx
    assertEquals(expected, q.integrate(x -> x * x, 0, 1e-10), 1e-13 * expected);
  }
}
