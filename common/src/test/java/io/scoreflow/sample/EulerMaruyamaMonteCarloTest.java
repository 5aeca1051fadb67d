package io.scoreflow.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.typesafe.config.ConfigFactory;
import io.scoreflow.sde.ForwardSde;
import io.scoreflow.sde.SdeSpec;
import io.scoreflow.sde.Sdes;
import io.scoreflow.theory.GaussianLaw;
import io.scoreflow.theory.SamplerRecursion;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The real sampler, driven by the exact Gaussian score, against the closed recursion of the theory
 * lab: the sample mean and variance of N draws must agree with the recursion's law within
 * statistical error.
 */
class EulerMaruyamaMonteCarloTest {

  private static final int SAMPLES = 400_000;

  private static ForwardSde sde(String name) {
    return Sdes.create(
        SdeSpec.resolve(
            name,
            Map.of(),
            Map.of(),
            null,
            ConfigFactory.defaultReference().getConfig("scoreflow.sde")));
  }

  private static double[] moments(Sampler sampler, ForwardSde sde, double mean, double std) {
    Engine.getInstance().setRandomSeed(99);
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray y =
          sampler.sample(
              new GaussianScore(sde, mean, std), new Shape(SAMPLES, 1), DataType.FLOAT64, manager);
      double m = y.mean().getDouble();
      return new double[] {m, y.sub(m).square().sum().getDouble() / (SAMPLES - 1)};
    }
  }

  @ParameterizedTest(name = "{0} K={1}")
  @CsvSource({"vp-linear, 20, 1.0, 0.5", "ve-exp, 50, 0.5, 1.0", "vp-exp, 9, -1.0, 2.0"})
  void probabilityFlowMomentsMatchItsRecursion(String name, int steps, double mean, double std) {
    ForwardSde sde = sde(name);
    GaussianLaw law = SamplerRecursion.probabilityFlow(sde, steps, new GaussianLaw(mean, std, 1));
    double[] m = moments(new ProbabilityFlowSampler(sde, steps), sde, mean, std);
    double var = law.std() * law.std();
    assertEquals(law.mean(), m[0], 5 * Math.sqrt(var / SAMPLES), "mean");
    assertEquals(var, m[1], 5 * Math.sqrt(2.0 / SAMPLES) * var, "variance");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"vp-linear, 1.0, 0.5", "ve-exp, 0.5, 1.0"})
  void predictorCorrectorApproachesTheDataLaw(String name, double mean, double std) {
    // PC's step size depends on batch norms, so its law has no closed recursion; with the exact
    // score and 300 steps its output must be close to the data itself. The tolerance (0.03 on
    // the mean and std) is ten times the statistical error and well below the prior's offset.
    ForwardSde sde = sde(name);
    double[] m =
        moments(
            new PredictorCorrectorSampler(
                sde, 300, new Predictor.EulerMaruyama(), new Corrector.Langevin(0.16, 1), true),
            sde,
            mean,
            std);
    assertEquals(mean, m[0], 0.03, "mean");
    assertEquals(std, Math.sqrt(m[1]), 0.03, "std");
  }

  @ParameterizedTest(name = "{0} K={1}")
  @CsvSource({"vp-linear, 20, 1.0, 0.5", "ve-exp, 50, 0.5, 1.0", "vp-poly, 7, -1.0, 2.0"})
  void sampleMomentsMatchTheRecursion(String name, int steps, double mean, double std) {
    ForwardSde sde =
        Sdes.create(
            SdeSpec.resolve(
                name,
                Map.of(),
                Map.of(),
                null,
                ConfigFactory.defaultReference().getConfig("scoreflow.sde")));
    GaussianLaw data = new GaussianLaw(mean, std, 1);
    GaussianLaw law = SamplerRecursion.eulerMaruyama(sde, steps, data);

    Engine.getInstance().setRandomSeed(1234);
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray y =
          PredictorCorrectorSampler.eulerMaruyama(sde, steps)
              .sample(
                  new GaussianScore(sde, mean, std),
                  new Shape(SAMPLES, 1),
                  DataType.FLOAT64,
                  manager);
      double sampleMean = y.mean().getDouble();
      double sampleVar = y.sub(sampleMean).square().sum().getDouble() / (SAMPLES - 1);
      double var = law.std() * law.std();
      // Five standard errors: the mean's is sqrt(V/N), the variance's sqrt(2/N) V for a Gaussian.
      assertEquals(law.mean(), sampleMean, 5 * Math.sqrt(var / SAMPLES), "mean");
      assertEquals(var, sampleVar, 5 * Math.sqrt(2.0 / SAMPLES) * var, "variance");
    }
  }
}
