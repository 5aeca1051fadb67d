package io.scoreflow.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.typesafe.config.ConfigFactory;
import io.scoreflow.math.DormandPrince;
import io.scoreflow.sde.ForwardSde;
import io.scoreflow.sde.SdeSpec;
import io.scoreflow.sde.Sdes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The RK45 probability-flow sampler with the exact score of Gaussian data {@code N(m, s² I)}, where
 * the flow is linear and solvable: the marginal at t is {@code N(a(t) m, v(t) I)} with {@code v =
 * a² s² + a2(t)}, and {@code x(t) = a(t) m + √(v(t)/v(T)) (x(T) − a(T) m)} solves {@code dx/dt = −f
 * x − ½ g² ∇log p_t(x)} (differentiate: {@code v' = −2 f v + g²}). Each coordinate is a scalar
 * multiple of its start, so the end state is checked coordinate by coordinate.
 */
class Rk45FlowSamplerTest {

  private static ForwardSde sde(String name) {
    return Sdes.create(
        SdeSpec.resolve(
            name,
            Map.of(),
            Map.of(),
            null,
            ConfigFactory.defaultReference().getConfig("scoreflow.sde")));
  }

  private static double v(ForwardSde sde, double t, double std) {
    double a = sde.meanCoeff(t);
    return a * a * std * std + sde.variance(t);
  }

  /** The flow's exact state at t from xT at T. */
  private static double exact(ForwardSde sde, double t, double xT, double mean, double std) {
    double r = Math.sqrt(v(sde, t, std) / v(sde, sde.horizon(), std));
    return sde.meanCoeff(t) * mean + r * (xT - sde.meanCoeff(sde.horizon()) * mean);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"vp-linear, 1.0, 0.5", "ve-exp, 0.5, 1.5", "vp-exp, -2.0, 0.2", "ve-poly, 3.0, 1.0"})
  void reachesTheClosedFormToTheToleranceAndSpendsLessWhenLooser(
      String name, double mean, double std) {
    ForwardSde sde = sde(name);
    GaussianScore score = new GaussianScore(sde, mean, std);
    List<Integer> nfe = new ArrayList<>();
    for (double tol : new double[] {1e-7, 1e-5, 1e-3}) {
      Engine.getInstance().setRandomSeed(5);
      try (NDManager manager = NDManager.newBaseManager()) {
        Rk45FlowSampler sampler = new Rk45FlowSampler(sde, 10, DormandPrince.Options.of(tol, tol));
        NDArray xT =
            manager.randomNormal(
                0f, (float) Math.sqrt(sde.priorVariance()), new Shape(32, 3), DataType.FLOAT64);
        DormandPrince.Solution s = sampler.integrate(score, xT, manager, k -> {});
        double[] start = xT.toDoubleArray();
        double[] end = s.y().toDoubleArray();
        double worst = 0;
        for (int i = 0; i < start.length; i++) {
          double want = exact(sde, sampler.eps(), start[i], mean, std);
          // In units of the tolerance the controller aims each step at.
          worst = Math.max(worst, Math.abs(end[i] - want) / (tol + tol * Math.abs(want)));
        }
        // The global error of a tolerance-controlled run: the local target summed over the
        // steps, which here stays under 10 tolerances.
        assertTrue(worst < 10, name + " tol=" + tol + ": error " + worst + " tolerances");
        nfe.add(s.evaluations());
      }
    }
    assertTrue(nfe.get(0) > nfe.get(1) && nfe.get(1) > nfe.get(2), name + " nfe " + nfe);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"vp-linear, 1.0, 0.5", "ve-exp, 0.5, 1.5"})
  void samplesEndAtTimeZeroWithTheDataLaw(String name, double mean, double std) {
    ForwardSde sde = sde(name);
    Sampler sampler =
        Sampler.of(
            "ode",
            sde,
            100,
            ConfigFactory.parseMap(Map.of("rtol", 1e-6, "atol", 1e-6))
                .withFallback(ConfigFactory.defaultReference().getConfig("scoreflow.sample")));
    Rk45FlowSampler rk = assertInstanceOf(Rk45FlowSampler.class, sampler);
    assertEquals(1e-6, rk.options().rtol());
    assertEquals(name.startsWith("ve") ? 1e-5 : 1e-3, rk.eps());
    int n = 20_000;
    Engine.getInstance().setRandomSeed(11);
    try (NDManager manager = NDManager.newBaseManager()) {
      List<Integer> progress = new ArrayList<>();
      NDArray y =
          sampler.sample(
              new GaussianScore(sde, mean, std),
              new Shape(n, 1),
              DataType.FLOAT64,
              manager,
              progress::add);
      assertEquals(100, progress.get(progress.size() - 1));
      for (int i = 1; i < progress.size(); i++) {
        assertTrue(progress.get(i) > progress.get(i - 1), "progress rises: " + progress);
      }
      // The prior is N(0, a2(T)), not the exact p_T, so the flow lands on the pushforward of the
      // prior: mean a(0)m + r (0 − a(T) m), std r √a2(T), with r = √(v(0)/v(T)) = s / √v(T).
      double r = std / Math.sqrt(v(sde, sde.horizon(), std));
      double wantMean = mean - r * sde.meanCoeff(sde.horizon()) * mean;
      double wantStd = r * Math.sqrt(sde.priorVariance());
      double m = y.mean().getDouble();
      double sd = Math.sqrt(y.sub(m).square().sum().getDouble() / (n - 1));
      assertEquals(wantMean, m, 5 * wantStd / Math.sqrt(n), "mean");
      assertEquals(wantStd, sd, 5 * wantStd / Math.sqrt(2.0 * n), "std");
    }
  }
}
