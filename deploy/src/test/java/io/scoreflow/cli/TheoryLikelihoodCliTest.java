package io.scoreflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.scoreflow.math.DormandPrince;
import io.scoreflow.sample.FlowLikelihood;
import io.scoreflow.sde.ForwardSde;
import io.scoreflow.sde.SdeSpec;
import io.scoreflow.sde.Sdes;
import io.scoreflow.theory.GaussianLaw;
import io.scoreflow.theory.GaussianLikelihood;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code theory likelihood} as a user runs it. */
class TheoryLikelihoodCliTest {

  @Test
  void jsonReportsTheEstimateNextToTheClosedForm() throws Exception {
    CliTest.Result r =
        CliTest.run(
            "theory",
            "likelihood",
            "--sde",
            "ve-exp",
            "--dim",
            "3",
            "--data-mean",
            "0.5",
            "--data-std",
            "2",
            "--samples",
            "200",
            "--hutchinson",
            "rademacher",
            "--json");
    assertEquals(0, r.code(), r.err());
    JsonNode j = r.json();
    for (String key :
        new String[] {
          "estimate_nats_per_dim", "stderr_nats_per_dim", "exact_nats_per_dim", "nfe"
        }) {
      assertTrue(j.has(key), key + " in " + j);
    }
    assertEquals("rademacher", j.get("divergence").asText());
    ForwardSde sde =
        Sdes.create(
            SdeSpec.resolve(
                "ve-exp",
                Map.of(),
                Map.of(),
                null,
                com.typesafe.config.ConfigFactory.defaultReference().getConfig("scoreflow.sde")));
    GaussianLaw law = new GaussianLaw(0.5, 2, 3);
    assertEquals(
        GaussianLikelihood.crossEntropyPerDim(
            law, GaussianLikelihood.model(sde, law, FlowLikelihood.DEFAULT_EPS)),
        j.get("exact_nats_per_dim").asDouble(),
        1e-12);
    double stderr = j.get("stderr_nats_per_dim").asDouble();
    assertEquals(
        j.get("exact_nats_per_dim").asDouble(),
        j.get("estimate_nats_per_dim").asDouble(),
        3 * stderr,
        j.toString());
    // The same run through the library: the CLI adds nothing but output.
    GaussianLikelihood.Result lib =
        GaussianLikelihood.run(
            sde,
            law,
            new GaussianLikelihood.Options(
                200,
                FlowLikelihood.Trace.RADEMACHER,
                DormandPrince.Options.of(1e-5, 1e-5),
                FlowLikelihood.DEFAULT_EPS,
                0),
            t -> {});
    assertEquals(lib.estimate(), j.get("estimate_nats_per_dim").asDouble(), 0.0);
    assertEquals(lib.evaluations(), j.get("nfe").asInt());
  }

  @Test
  void textOutputNamesTheNumbers() {
    CliTest.Result r =
        CliTest.run("theory", "likelihood", "--sde", "vp-linear", "--dim", "2", "--samples", "50");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("estimate"), r.out());
    assertTrue(r.out().contains("exact divergence"), r.out());
    assertTrue(r.out().contains("standard errors"), r.out());
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "--hutchinson normal | --hutchinson must be gaussian or rademacher, got 'normal'",
        "--exact --hutchinson gaussian | --exact and --hutchinson exclude each other",
        "--rtol 0 | --rtol must be in (0, 1), got 0.0",
        "--atol -1 | --atol must be > 0, got -1.0",
        "--samples 1 | --samples must be >= 2, got 1",
        "--eps 0 | --eps must be in (0, T=1.0), got 0.0",
        "--data-std 0 | --data-std must be > 0 for a likelihood, got 0.0"
      })
  void badFlagsAreOneClearLine(String flags, String message) {
    String[] base = {"theory", "likelihood", "--sde", "vp-linear", "--dim", "2"};
    String[] extra = flags.split(" ");
    String[] args = new String[base.length + extra.length];
    System.arraycopy(base, 0, args, 0, base.length);
    System.arraycopy(extra, 0, args, base.length, extra.length);
    CliTest.Result r = CliTest.run(args);
    assertEquals(2, r.code(), flags + " -> " + r.err());
    assertTrue(r.err().startsWith("scoreflow: error: "), r.err());
    assertEquals(1, r.err().lines().count(), "one line: " + r.err());
    assertFalse(r.err().contains("Exception"), r.err());
    assertEquals("scoreflow: error: " + message, r.err().strip());
  }
}
