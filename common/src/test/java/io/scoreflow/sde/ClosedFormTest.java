package io.scoreflow.sde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every closed form against adaptive quadrature of its definition: {@code a1 = exp(−∫f)} and {@code
 * a2 = ∫ exp(−2∫s^t f) g² ds} from the schedule's own f and g, to relative 1e-9, at many t
 * including t close to 0 (where a careless closed form cancels).
 */
class ClosedFormTest {

  /**
   * Every closed-form schedule of the registry at its defaults (so a new entry is tested without
   * being listed here), then hand-picked cases: other horizons, wide ranges and degenerate ones.
   */
  static Stream<Arguments> schedules() {
    Stream<Arguments> registry =
        Arrays.stream(Schedule.values())
            .filter(s -> s.family() != Schedule.Family.GENERIC)
            .map(s -> Arguments.of(s.id(), Map.of(), 1.0));
    Stream<Arguments> chosen =
        Stream.of(
            Arguments.of("vp-linear", Map.of("beta-min", 0.5, "beta-max", 3.0), 2.0),
            Arguments.of("vp-linear", Map.of("beta-min", 2.0, "beta-max", 2.0), 1.0),
            Arguments.of("vp-constant", Map.of("beta", 0.3), 4.0),
            Arguments.of("vp-poly", Map.of("rho", 3.0), 1.0),
            Arguments.of("vp-poly", Map.of("rho", 0.5, "beta-min", 0.2, "beta-max", 8.0), 1.5),
            Arguments.of("vp-exp", Map.of("beta-min", 1.0, "beta-max", 1.0), 1.0),
            Arguments.of("ve-exp", Map.of("sigma-min", 0.002, "sigma-max", 80.0), 1.3),
            Arguments.of("ve-sqrt", Map.of("sigma-min", 0.1, "sigma-max", 3.0), 2.0),
            Arguments.of("ve-poly", Map.of("rho", 1.5, "sigma-max", 10.0), 1.0));
    return Stream.concat(registry, chosen);
  }

  static ForwardSde named(String name, Map<String, Double> params, double horizon) {
    return Sdes.create(
        SdeSpec.resolve(
            name,
            params,
            Map.of(),
            horizon,
            ConfigFactory.defaultReference().getConfig("scoreflow.sde")));
  }

  static List<Double> times(double horizon) {
    List<Double> ts = new ArrayList<>(List.of(1e-9, 1e-6, 1e-4, 1e-3));
    for (int i = 1; i <= 60; i++) {
      ts.add(horizon * i / 60.0);
    }
    ts.add(horizon * 0.123456789);
    return ts;
  }

  @ParameterizedTest(name = "{0} {1} T={2}")
  @MethodSource("schedules")
  void closedFormsMatchQuadrature(String name, Map<String, Double> params, double horizon) {
    ForwardSde sde = named(name, params, horizon);
    ForwardSde numeric = Sdes.generic(sde.spec(), sde::f, sde::g, horizon);
    for (double t : times(horizon)) {
      assertRelative(numeric.meanCoeff(t), sde.meanCoeff(t), 1e-9, name + " a1 at t=" + t);
      assertRelative(numeric.variance(t), sde.variance(t), 1e-9, name + " a2 at t=" + t);
    }
    assertEquals(sde.variance(horizon), sde.priorVariance());
    assertEquals(1.0, sde.meanCoeff(0));
    assertEquals(0.0, sde.variance(0));
  }

  @ParameterizedTest(name = "{0} {1} T={2}")
  @MethodSource("schedules")
  void vpVarianceIsOneMinusMeanSquaredAndVeMeanIsOne(
      String name, Map<String, Double> params, double horizon) {
    ForwardSde sde = named(name, params, horizon);
    for (double t : times(horizon)) {
      if (sde.spec().schedule().family() == Schedule.Family.VP) {
        double a1 = sde.meanCoeff(t);
        assertEquals(1 - a1 * a1, sde.variance(t), 1e-15, name + " at t=" + t);
        assertEquals(sde.f(t), 0.5 * sde.g(t) * sde.g(t), 1e-12 * sde.f(t));
      } else {
        assertEquals(1.0, sde.meanCoeff(t));
        assertEquals(0.0, sde.f(t));
      }
    }
  }

  @ParameterizedTest(name = "{0} {1} T={2}")
  @MethodSource("schedules")
  void veDiffusionIsTheDerivativeOfSigmaSquared(
      String name, Map<String, Double> params, double horizon) {
    ForwardSde sde = named(name, params, horizon);
    if (sde.spec().schedule().family() != Schedule.Family.VE) {
      return;
    }
    // g² = dσ²/dt, checked by a central difference of a2 = σ²(t) − σ²(0) (not score_sde's
    // g = σ √(2 ln(σmax/σmin)), which is right for ve-exp only).
    for (int i = 1; i < 20; i++) {
      double t = horizon * i / 20;
      double h = 1e-5 * horizon;
      double derivative = (sde.variance(t + h) - sde.variance(t - h)) / (2 * h);
      assertRelative(derivative, sde.g(t) * sde.g(t), 1e-7, name + " g² at t=" + t);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("schedules")
  void veExpMatchesScoreSdeOnlyForTheGeometricSchedule(
      String name, Map<String, Double> params, double horizon) {
    if (!name.equals("ve-exp")) {
      return;
    }
    VeSde sde = (VeSde) named(name, params, horizon);
    double logRatio = Math.log(sde.spec().param("sigma-max") / sde.spec().param("sigma-min"));
    for (int i = 0; i <= 10; i++) {
      double t = horizon * i / 10;
      assertRelative(sde.sigma(t) * Math.sqrt(2 * logRatio), sde.g(t), 1e-13, "g at " + t);
    }
  }

  @org.junit.jupiter.api.Test
  void genericExpressionsReproduceVpLinear() {
    ForwardSde exact = named("vp-linear", Map.of(), 1.0);
    ForwardSde generic =
        Sdes.create(
            SdeSpec.resolve(
                "generic",
                Map.of(),
                Map.of("f", "0.5*(0.1+19.9*t)", "g", "sqrt(0.1+19.9*t)"),
                null,
                ConfigFactory.defaultReference().getConfig("scoreflow.sde")));
    for (double t : times(1.0)) {
      assertRelative(exact.meanCoeff(t), generic.meanCoeff(t), 1e-9, "a1 at " + t);
      assertRelative(exact.variance(t), generic.variance(t), 1e-9, "a2 at " + t);
      assertRelative(exact.g(t), generic.g(t), 1e-14, "g at " + t);
    }
  }

  static void assertRelative(double expected, double actual, double rel, String what) {
    double err = Math.abs(expected - actual);
    assertTrue(
        err <= rel * Math.abs(expected) || (expected == 0 && actual == 0),
        () ->
            what
                + ": expected "
                + expected
                + ", got "
                + actual
                + " (rel err "
                + err / Math.abs(expected)
                + ")");
  }
}
