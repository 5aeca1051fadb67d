package io.scoreflow.theory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.scoreflow.InvalidInputException;
import io.scoreflow.sde.Schedule;
import io.scoreflow.sde.SdeSpec;
import java.math.BigDecimal;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class IterationComplexityTest {

  @Test
  void everyRowMatchesTheIndependentComputation() {
    int seen = 0;
    for (Config c : MpmathReference.section("complexity")) {
      var estimate =
          IterationComplexity.of(
              MpmathReference.sde(c).spec(), c.getDouble("dim"), c.getDouble("eps"));
      double expected = new BigDecimal(c.getString("K")).doubleValue();
      String what = MpmathReference.describe(c);
      assertEquals(c.getInt("row"), estimate.row().number(), what);
      assertEquals(expected, estimate.steps(), 1e-12 * expected, what);
      seen++;
    }
    assertEquals(24, seen);
  }

  @Test
  void vePolyUsesTheExponentOfGNotOfSigma() {
    SdeSpec spec = spec("ve-poly", Map.of("rho", 2.0));
    assertEquals(1.5, IterationComplexity.of(spec, 10, 0.1).exponent());
  }

  @Test
  void vpPolyWithRhoOneIsTheLinearRow() {
    double poly = IterationComplexity.of(spec("vp-poly", Map.of("rho", 1.0)), 50, 0.01).steps();
    double linear = IterationComplexity.of(spec("vp-linear", Map.of()), 50, 0.01).steps();
    assertEquals(linear, poly, 1e-9 * linear);
  }

  @Test
  void rejectsWhatTheLeadingOrderCannotTake() {
    var e =
        assertThrows(
            InvalidInputException.class,
            () -> IterationComplexity.of(spec("vp-linear", Map.of()), 1, 2));
    assertTrue(e.getMessage().contains("--eps must be < --dim"));
    assertThrows(
        InvalidInputException.class, () -> IterationComplexity.of(spec("vp-exp", Map.of()), 2, 1));
    assertThrows(
        InvalidInputException.class,
        () -> IterationComplexity.of(spec("vp-linear", Map.of()), 10, 0));
    var generic =
        SdeSpec.resolve(
            "generic",
            Map.of(),
            Map.of("f", "1", "g", "1"),
            null,
            ConfigFactory.defaultReference().getConfig("scoreflow.sde"));
    assertThrows(InvalidInputException.class, () -> IterationComplexity.of(generic, 10, 0.1));
  }

  @Test
  void theTableHasEveryRowOnceInOrder() {
    var numbers = IterationComplexity.table().stream().map(r -> r.number()).toList();
    assertEquals(IntStream.rangeClosed(1, numbers.size()).boxed().toList(), numbers);
    assertEquals(8, numbers.size(), "Table 2 has eight rows");
  }

  @ParameterizedTest
  @EnumSource(value = Schedule.class, names = "GENERIC", mode = EnumSource.Mode.EXCLUDE)
  void everyNamedScheduleHasARowGivingAFinitePositiveK(Schedule schedule) {
    var estimate = IterationComplexity.of(spec(schedule.id(), Map.of()), 3072, 0.1);
    assertEquals(schedule.complexityRow().orElseThrow(), estimate.row());
    assertTrue(estimate.steps() > 0 && Double.isFinite(estimate.steps()), estimate.toString());
    // K grows as the accuracy tightens, in every row.
    assertTrue(
        IterationComplexity.of(spec(schedule.id(), Map.of()), 3072, 0.01).steps()
            > estimate.steps());
  }

  private static SdeSpec spec(String name, Map<String, Double> params) {
    return SdeSpec.resolve(
        name, params, Map.of(), null, ConfigFactory.defaultReference().getConfig("scoreflow.sde"));
  }
}
