package io.scoreflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import io.scoreflow.sample.Corrector;
import io.scoreflow.sample.Predictor;
import io.scoreflow.sde.ForwardSde;
import io.scoreflow.sde.SdeSpec;
import io.scoreflow.sde.Sdes;
import io.scoreflow.theory.GaussianLaw;
import io.scoreflow.theory.SamplerRecursion;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code theory w2 --predictor P --corrector C}: the exact law of a pc sampler from the CLI. */
class TheoryPcCliTest {

  private static JsonNode w2(String predictor, String corrector, int steps) throws Exception {
    CliTest.Result r =
        CliTest.run(
            "theory",
            "w2",
            "--sde",
            "ve-exp",
            "--steps",
            String.valueOf(steps),
            "--dim",
            "8",
            "--data-mean",
            "0.5",
            "--data-std",
            "0.8",
            "--predictor",
            predictor,
            "--corrector",
            corrector,
            "--snr",
            "0.2",
            "--corrector-steps",
            "2",
            "--json");
    assertEquals(0, r.code(), r.err());
    return r.json();
  }

  @Test
  void pcLawMatchesTheRecursionAndImprovesWithSteps() throws Exception {
    JsonNode j = w2("ancestral", "ald", 100);
    ForwardSde sde =
        Sdes.create(
            SdeSpec.resolve(
                "ve-exp",
                Map.of(),
                Map.of(),
                null,
                ConfigFactory.defaultReference().getConfig("scoreflow.sde")));
    GaussianLaw data = new GaussianLaw(0.5, 0.8, 8);
    double expected =
        SamplerRecursion.predictorCorrector(
                sde, 100, new Predictor.Ancestral(), new Corrector.Ald(0.2, 2), true, data)
            .w2(data);
    assertEquals(expected, j.get("w2").asDouble(), 1e-15);
    assertEquals("pc", j.get("sampler").asText());
    assertEquals("ancestral", j.get("predictor").asText());
    assertEquals("ald", j.get("corrector").asText());
    assertTrue(w2("ancestral", "ald", 1000).get("w2").asDouble() < j.get("w2").asDouble());
  }

  @Test
  void langevinAndStrayFlagsAreOneLine() {
    CliTest.Result r =
        CliTest.run(
            "theory",
            "w2",
            "--sde",
            "vp-linear",
            "--steps",
            "10",
            "--dim",
            "2",
            "--predictor",
            "reverse-diffusion",
            "--corrector",
            "langevin");
    assertEquals(2, r.code());
    assertEquals(
        "scoreflow: error: corrector 'langevin' has no exact recursion (its step depends on the"
            + " batch)",
        r.err().strip());
    CliTest.Result stray =
        CliTest.run(
            "theory",
            "w2",
            "--sde",
            "vp-linear",
            "--steps",
            "10",
            "--dim",
            "2",
            "--corrector",
            "ald");
    assertEquals(2, stray.code());
    assertTrue(stray.err().contains("apply with --predictor only"), stray.err());
    CliTest.Result generic =
        CliTest.run(
            "theory",
            "w2",
            "--sde",
            "generic",
            "--f",
            "0.5*(0.1+19.9*t)",
            "--g",
            "sqrt(0.1+19.9*t)",
            "--steps",
            "10",
            "--dim",
            "2",
            "--predictor",
            "ancestral");
    assertEquals(2, generic.code(), generic.err());
    assertTrue(generic.err().contains("is not defined for SDE 'generic'"), generic.err());
  }
}
