package io.scoreflow.sde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.scoreflow.InvalidInputException;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** Every bad parameter is one clear error that names it. */
class SdeValidationTest {

  private static ForwardSde create(String name, Map<String, Double> params, Double horizon) {
    return create(name, params, Map.of(), horizon);
  }

  private static ForwardSde create(
      String name, Map<String, Double> params, Map<String, String> exprs, Double horizon) {
    return Sdes.create(
        SdeSpec.resolve(
            name,
            params,
            exprs,
            horizon,
            ConfigFactory.defaultReference().getConfig("scoreflow.sde")));
  }

  private static void rejects(String expectedFragment, Runnable r) {
    InvalidInputException e = assertThrows(InvalidInputException.class, r::run);
    assertTrue(
        e.getMessage().contains(expectedFragment),
        () -> "message '" + e.getMessage() + "' should name '" + expectedFragment + "'");
    assertTrue(!e.getMessage().contains("\n"), "one line");
  }

  @Test
  void rejectsNonPositiveBeta() {
    rejects("--beta-min must be > 0", () -> create("vp-linear", Map.of("beta-min", 0.0), null));
    rejects("--beta-min must be > 0", () -> create("vp-exp", Map.of("beta-min", -1.0), null));
    rejects("--beta must be > 0", () -> create("vp-constant", Map.of("beta", 0.0), null));
    rejects("--beta must be > 0", () -> create("vp-constant", Map.of("beta", -5.0), null));
  }

  @Test
  void rejectsBetaMaxBelowBetaMin() {
    rejects(
        "--beta-max must be >= --beta-min",
        () -> create("vp-linear", Map.of("beta-min", 2.0, "beta-max", 1.0), null));
    rejects(
        "--beta-max must be >= --beta-min",
        () -> create("vp-poly", Map.of("beta-min", 2.0, "beta-max", 1.0), null));
  }

  @Test
  void rejectsSigmaMaxNotAboveSigmaMin() {
    for (String name : new String[] {"ve-exp", "ve-constant", "ve-sqrt", "ve-poly"}) {
      rejects(
          "--sigma-max must be > --sigma-min",
          () -> create(name, Map.of("sigma-min", 1.0, "sigma-max", 1.0), null));
      rejects("--sigma-min must be > 0", () -> create(name, Map.of("sigma-min", 0.0), null));
    }
  }

  @Test
  void rejectsNonPositiveRho() {
    rejects("--rho must be > 0", () -> create("vp-poly", Map.of("rho", 0.0), null));
    rejects("--rho must be > 0", () -> create("ve-poly", Map.of("rho", -2.0), null));
  }

  @Test
  void rejectsNonPositiveHorizon() {
    rejects("T must be > 0", () -> create("vp-linear", Map.of(), 0.0));
    rejects("T must be > 0", () -> create("ve-exp", Map.of(), -1.0));
    rejects("T must be > 0", () -> create("ve-exp", Map.of(), Double.POSITIVE_INFINITY));
  }

  @Test
  void rejectsNonFiniteParameters() {
    rejects(
        "--beta-max must be finite",
        () -> create("vp-linear", Map.of("beta-max", Double.NaN), null));
  }

  @Test
  void rejectsTimesOutsideTheHorizon() {
    ForwardSde sde = create("vp-linear", Map.of(), 2.0);
    rejects("outside [0, T]", () -> sde.f(2.0001));
    rejects("outside [0, T]", () -> sde.g(-1e-9));
    rejects("outside [0, T]", () -> sde.meanCoeff(Double.NaN));
    rejects("outside [0, T]", () -> sde.variance(3));
    assertEquals(sde.variance(2.0), sde.priorVariance());
  }

  @Test
  void rejectsUnknownNamesAndListsTheKnownOnes() {
    rejects("unknown SDE 'vp-cosine'", () -> create("vp-cosine", Map.of(), null));
    rejects("ve-poly", () -> create("vp-cosine", Map.of(), null));
  }

  @Test
  void rejectsParametersTheScheduleDoesNotTake() {
    rejects(
        "--sigma-max does not apply to vp-linear",
        () -> create("vp-linear", Map.of("sigma-max", 3.0), null));
    rejects("--rho does not apply to ve-exp", () -> create("ve-exp", Map.of("rho", 3.0), null));
  }

  @Test
  void genericNeedsParsableExpressionsAndANonNegativeG() {
    rejects("needs --f and --g", () -> create("generic", Map.of(), Map.of("f", "t"), null));
    rejects(
        "not an expression in t",
        () -> create("generic", Map.of(), Map.of("f", "t*", "g", "1"), null));
    rejects(
        "Unknown function or variable 'x'",
        () -> create("generic", Map.of(), Map.of("f", "x", "g", "1"), null));
    rejects(
        "--g must be finite and >= 0",
        () -> create("generic", Map.of(), Map.of("f", "0", "g", "t-0.5"), null));
    rejects(
        "--f '1/t' is not finite at t=0",
        () -> create("generic", Map.of(), Map.of("f", "1/t", "g", "1"), null));
    rejects(
        "--f is not finite",
        () -> create("generic", Map.of(), Map.of("f", "log(t)", "g", "1"), null));
    rejects(
        "applies only to the generic SDE",
        () -> create("vp-linear", Map.of(), Map.of("f", "t"), null));
  }

  /** Every numeric parameter of every schedule in the registry. */
  static Stream<Arguments> parameters() {
    return Arrays.stream(Schedule.values())
        .flatMap(s -> s.numbers().stream().map(p -> Arguments.of(s.id(), p)));
  }

  @ParameterizedTest(name = "{0} --{1}")
  @MethodSource("parameters")
  void everyParameterRejectsAValueOutsideItsBound(String name, Parameter.Number p) {
    String key = p.key();
    if (p.bound() instanceof Parameter.Bound.Positive) {
      rejects("--" + key + " must be > 0", () -> create(name, Map.of(key, 0.0), null));
      rejects("--" + key + " must be > 0", () -> create(name, Map.of(key, -1.0), null));
    } else if (p.bound() instanceof Parameter.Bound.AtLeast b) {
      rejects(
          "--" + key + " must be >= --" + b.other(),
          () -> create(name, Map.of(b.other(), 2.0, key, 1.0), null));
      create(name, Map.of(b.other(), 2.0, key, 2.0), null);
    } else if (p.bound() instanceof Parameter.Bound.Above b) {
      rejects(
          "--" + key + " must be > --" + b.other(),
          () -> create(name, Map.of(b.other(), 2.0, key, 2.0), null));
    }
    rejects("--" + key + " must be finite", () -> create(name, Map.of(key, Double.NaN), null));
    rejects(
        "--" + key + " must be finite",
        () -> create(name, Map.of(key, Double.POSITIVE_INFINITY), null));
  }

  @ParameterizedTest
  @EnumSource(Schedule.class)
  void everyScheduleRejectsTheParametersOfOthers(Schedule schedule) {
    String name = schedule.id();
    for (Schedule other : Schedule.values()) {
      for (String key : other.parameterKeys()) {
        if (!schedule.parameterKeys().contains(key)) {
          rejects(
              "--" + key + " does not apply to " + name,
              () -> create(name, Map.of(key, 1.0), null));
        }
      }
    }
  }
}
