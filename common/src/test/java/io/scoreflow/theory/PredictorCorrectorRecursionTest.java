package io.scoreflow.theory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.scoreflow.InvalidInputException;
import io.scoreflow.sample.Corrector;
import io.scoreflow.sample.Predictor;
import io.scoreflow.sde.ForwardSde;
import io.scoreflow.sde.SdeSpec;
import io.scoreflow.sde.Sdes;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The exact output laws of score_sde's predictors and the annealed Langevin corrector on Gaussian
 * data: every pairing must converge to the data law as the steps grow.
 */
class PredictorCorrectorRecursionTest {

  private static final GaussianLaw DATA = new GaussianLaw(0.5, 0.8, 4);

  static ForwardSde sde(String name) {
    return Sdes.create(
        SdeSpec.resolve(
            name,
            Map.of(),
            Map.of(),
            null,
            ConfigFactory.defaultReference().getConfig("scoreflow.sde")));
  }

  private static Predictor predictor(String name) {
    return switch (name) {
      case "euler-maruyama" -> new Predictor.EulerMaruyama();
      case "reverse-diffusion" -> new Predictor.ReverseDiffusion();
      default -> new Predictor.Ancestral();
    };
  }

  private static double w2(String sde, int steps, Predictor p, Corrector c) {
    return SamplerRecursion.predictorCorrector(sde(sde), steps, p, c, true, DATA).w2(DATA);
  }

  /**
   * K = 10, 100, 1000: W2 falls at each tenfold, and ends below 0.01 (the data's std is 0.8). The
   * schedules are ones whose exact-variance prior is close enough to p_T that its error (a floor
   * the steps cannot remove) lies below the K = 1000 discretisation error.
   */
  @ParameterizedTest(name = "{0} {1} {2}x{3}")
  @CsvSource({
    "vp-linear, euler-maruyama, none, 0",
    "vp-linear, euler-maruyama, ald, 1",
    "vp-linear, reverse-diffusion, none, 0",
    "vp-linear, reverse-diffusion, ald, 3",
    "vp-linear, ancestral, none, 0",
    "vp-linear, ancestral, ald, 1",
    "ve-exp, euler-maruyama, none, 0",
    "ve-exp, euler-maruyama, ald, 3",
    "ve-exp, reverse-diffusion, none, 0",
    "ve-exp, reverse-diffusion, ald, 1",
    "ve-exp, ancestral, none, 0",
    "ve-exp, ancestral, ald, 1",
    "vp-constant, reverse-diffusion, ald, 1",
    "ve-poly, ancestral, ald, 3"
  })
  void w2FallsWithTheSteps(String sde, String predictor, String corrector, int correctorSteps) {
    Predictor p = predictor(predictor);
    Corrector c =
        corrector.equals("none") ? new Corrector.None() : new Corrector.Ald(0.16, correctorSteps);
    double previous = Double.POSITIVE_INFINITY;
    for (int steps : List.of(10, 100, 1000)) {
      double w2 = w2(sde, steps, p, c);
      assertTrue(w2 < previous, steps + " steps: W2 " + w2 + " not below " + previous);
      previous = w2;
    }
    assertTrue(previous < 0.01, "W2 at 1000 steps " + previous);
  }

  /**
   * Without a corrector each predictor is a first-order scheme: ten times the steps cut W2 by close
   * to ten (more than 5 here, from 100 to 1000 steps, where the prior floor is far below).
   */
  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
    "vp-linear, euler-maruyama",
    "vp-linear, reverse-diffusion",
    "vp-linear, ancestral",
    "ve-exp, reverse-diffusion",
    "ve-exp, ancestral"
  })
  void predictorsAreFirstOrder(String sde, String predictor) {
    Predictor p = predictor(predictor);
    double ratio = w2(sde, 100, p, new Corrector.None()) / w2(sde, 1000, p, new Corrector.None());
    assertTrue(ratio > 5 && ratio < 20, "W2(100)/W2(1000) = " + ratio);
  }

  @Test
  void theEulerMaruyamaPredictorAloneIsTheEulerMaruyamaSampler() {
    for (String name : List.of("vp-linear", "ve-exp", "vp-poly")) {
      GaussianLaw pc =
          SamplerRecursion.predictorCorrector(
              sde(name), 37, new Predictor.EulerMaruyama(), new Corrector.None(), false, DATA);
      GaussianLaw em = SamplerRecursion.eulerMaruyama(sde(name), 37, DATA);
      assertEquals(em.mean(), pc.mean(), 1e-14 * Math.abs(em.mean()), name);
      assertEquals(em.std(), pc.std(), 1e-14 * em.std(), name);
    }
  }

  /**
   * On VE with f = 0 the reverse-diffusion step {@code x + Δ s + √Δ ξ} is Euler–Maruyama with the
   * exact variance increment Δ = a2(s) − a2(s − η) in place of η g(s)²; for ve-constant the two
   * agree exactly (g² = c is constant).
   */
  @Test
  void reverseDiffusionOnVeConstantIsEulerMaruyama() {
    ForwardSde sde = sde("ve-constant");
    for (int steps : List.of(5, 50)) {
      GaussianLaw rd =
          SamplerRecursion.predictorCorrector(
              sde, steps, new Predictor.ReverseDiffusion(), new Corrector.None(), false, DATA);
      GaussianLaw em = SamplerRecursion.eulerMaruyama(sde, steps, DATA);
      assertEquals(em.mean(), rd.mean(), 1e-12);
      assertEquals(em.std(), rd.std(), 1e-12 * em.std());
    }
  }

  @Test
  void ancestralIsRefusedWhereThereIsNoChain() {
    ForwardSde generic =
        Sdes.create(
            SdeSpec.resolve(
                "generic",
                Map.of(),
                Map.of("f", "0.5*(0.1+19.9*t)", "g", "sqrt(0.1+19.9*t)"),
                null,
                ConfigFactory.defaultReference().getConfig("scoreflow.sde")));
    var e = assertThrows(InvalidInputException.class, () -> Predictor.of("ancestral", generic));
    assertEquals(
        "predictor 'ancestral' is not defined for SDE 'generic': it needs the discrete Markov"
            + " chain of a VP (DDPM) or VE (SMLD) schedule",
        e.getMessage());
    assertThrows(InvalidInputException.class, () -> Predictor.of("ddim", sde("vp-linear")));
    assertThrows(InvalidInputException.class, () -> Corrector.of("hmc", 0.16, 1));
    assertThrows(InvalidInputException.class, () -> Corrector.of("ald", 0, 1));
  }
}
