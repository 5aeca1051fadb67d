package io.scoreflow.theory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.typesafe.config.ConfigFactory;
import io.scoreflow.math.DormandPrince;
import io.scoreflow.sample.FlowLikelihood;
import io.scoreflow.sample.GaussianScore;
import io.scoreflow.sde.ForwardSde;
import io.scoreflow.sde.SdeSpec;
import io.scoreflow.sde.Sdes;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The ODE likelihood with the exact score of Gaussian data, against closed forms: point by point
 * with the exact trace (the ODE and autograd against the algebra of the affine flow), and, as the
 * issue's done-when, the Monte Carlo mean of every divergence mode within 3 standard errors of the
 * exact expected value.
 */
class GaussianLikelihoodTest {

  private static ForwardSde sde(String name) {
    return Sdes.create(
        SdeSpec.resolve(
            name,
            Map.of(),
            Map.of(),
            null,
            ConfigFactory.defaultReference().getConfig("scoreflow.sde")));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"vp-linear, 0.7, 0.5", "ve-exp, -1.0, 2.0", "vp-exp, 2.0, 1.0"})
  void exactTraceGivesEachPointsClosedFormLikelihood(String name, double mean, double std) {
    ForwardSde sde = sde(name);
    GaussianLaw law = new GaussianLaw(mean, std, 3);
    FlowLikelihood flow =
        new FlowLikelihood(
            sde,
            FlowLikelihood.Trace.EXACT,
            DormandPrince.Options.of(1e-7, 1e-7),
            FlowLikelihood.DEFAULT_EPS);
    GaussianLaw q = GaussianLikelihood.model(sde, law, flow.eps());
    Engine.getInstance().setRandomSeed(3);
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray x =
          manager.randomNormal(0f, 1f, new Shape(16, 3), DataType.FLOAT64).muli(std).addi(mean);
      int before = manager.getManagedArrays().size();
      FlowLikelihood.Result r =
          flow.logLikelihood(new GaussianScore(sde, mean, std), x, manager, t -> {});
      assertEquals(before, manager.getManagedArrays().size(), "every array freed");
      double[] flat = x.toDoubleArray();
      for (int i = 0; i < 16; i++) {
        double[] point = java.util.Arrays.copyOfRange(flat, 3 * i, 3 * i + 3);
        double want = GaussianLikelihood.nllPerDim(q, point);
        // ~1e-7 relative tolerances on a state of size ~10: far below 1e-4 nats per dimension.
        assertEquals(want, -r.logLikelihood()[i] / 3, 1e-4, name + " point " + i);
      }
    }
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
    "vp-linear, EXACT",
    "vp-linear, GAUSSIAN",
    "vp-linear, RADEMACHER",
    "ve-exp, EXACT",
    "ve-exp, GAUSSIAN",
    "ve-exp, RADEMACHER"
  })
  void estimateIsWithinThreeStandardErrorsOfTheExactValue(String name, FlowLikelihood.Trace trace) {
    ForwardSde sde = sde(name);
    GaussianLaw law = new GaussianLaw(0.5, 1.5, 4);
    GaussianLikelihood.Result r =
        GaussianLikelihood.run(
            sde,
            law,
            new GaussianLikelihood.Options(
                400, trace, DormandPrince.Options.of(1e-5, 1e-5), FlowLikelihood.DEFAULT_EPS, 7),
            t -> {});
    // Gaussian probes add the most variance (|u|²/d of a trace that is large for VE).
    assertTrue(r.stderr() > 0 && r.stderr() < 0.5, "stderr " + r.stderr());
    assertEquals(r.exact(), r.estimate(), 3 * r.stderr(), name + " " + trace + " " + r);
    // The closed forms themselves: the prior's mismatch with p_T is small, and no model beats the
    // data's entropy (which the VE marginal at ε = 1e-5, variance s² + 2e-8, meets to rounding).
    assertEquals(r.marginal(), r.exact(), 1e-3);
    assertTrue(r.exact() > r.dataEntropy(), r.toString());
    assertTrue(r.marginal() >= r.dataEntropy() - 1e-15, r.toString());
  }
}
