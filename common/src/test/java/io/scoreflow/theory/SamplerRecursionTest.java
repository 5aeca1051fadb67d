package io.scoreflow.theory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import io.scoreflow.sde.ForwardSde;
import java.math.BigDecimal;
import java.util.List;
import org.junit.jupiter.api.Test;

class SamplerRecursionTest {

  /**
   * Against the 60-digit mpmath reference. The recursion runs in double precision over up to 1000
   * steps, each of whose coefficients is accurate to a few ulps, so 1e-10 relative leaves ample
   * room while being 10,000 times tighter than the 1e-6 the product promises.
   */
  @Test
  void matchesTheIndependentHighPrecisionComputation() {
    List<? extends Config> cases = MpmathReference.section("w2");
    assertTrue(cases.size() >= 24, "reference has every schedule");
    for (Config c : cases) {
      ForwardSde sde = MpmathReference.sde(c);
      GaussianLaw data =
          new GaussianLaw(c.getDouble("data_mean"), c.getDouble("data_std"), c.getInt("dim"));
      GaussianLaw out = SamplerRecursion.eulerMaruyama(sde, c.getInt("steps"), data);
      String what = MpmathReference.describe(c);
      assertRelative(new BigDecimal(c.getString("w2")).doubleValue(), out.w2(data), 1e-10, what);
      assertRelative(new BigDecimal(c.getString("mean")).doubleValue(), out.mean(), 1e-10, what);
      assertRelative(new BigDecimal(c.getString("std")).doubleValue(), out.std(), 1e-10, what);
    }
  }

  @Test
  void w2OfIsotropicGaussiansIsTheClosedForm() {
    GaussianLaw a = new GaussianLaw(1, 2, 4);
    GaussianLaw b = new GaussianLaw(0, 0.5, 4);
    assertEquals(Math.sqrt(4 * (1 + 1.5 * 1.5)), a.w2(b), 1e-15);
    assertEquals(0, a.w2(a));
  }

  private static void assertRelative(double expected, double actual, double rel, String what) {
    double err = Math.abs(expected - actual);
    assertTrue(
        err <= rel * Math.abs(expected) + 1e-300,
        () ->
            what
                + ": expected "
                + expected
                + ", got "
                + actual
                + ", rel err "
                + err / Math.abs(expected));
  }
}
