package io.scoreflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.scoreflow.data.Npz;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sample} with score_sde's predictors and correctors, as a user runs it. */
class SampleCliTest {

  /** A tiny MLP run on 4-d Gaussian vectors, trained for a few steps. */
  static Path vectorRun(Path dir, String sde) throws Exception {
    Path conf = dir.resolve("mlp.conf");
    Files.writeString(
        conf,
        """
        scoreflow {
          job.name = mlp-sample
          sde.name = %s
          model { arch = mlp, mlp { hidden = 16, layers = 2 } }
          data { source = gaussian, random-flip = false, gaussian { dim = 4, mean = 1.0, std = 0.5, size = 256 } }
          train { batch-size = 16, log-every = 5, checkpoint-every = 4 }
        }
        """
            .formatted(sde));
    Path run = dir.resolve("run-" + sde);
    CliTest.Result train =
        CliTest.run("train", conf.toString(), "--steps", "4", "--out", run.toString());
    assertEquals(0, train.code(), train.err());
    return run;
  }

  @Test
  void everyPredictorAndCorrectorSamplesFromTheCli(@TempDir Path dir) throws Exception {
    Path run = vectorRun(dir, "vp-linear");
    String[][] pairs = {
      {"euler-maruyama", "none"}, {"reverse-diffusion", "langevin"}, {"ancestral", "ald"}
    };
    for (String[] pair : pairs) {
      Path out = dir.resolve(pair[0] + "-" + pair[1]);
      CliTest.Result r =
          CliTest.run(
              "sample",
              run.toString(),
              "--sampler",
              "pc",
              "--predictor",
              pair[0],
              "--corrector",
              pair[1],
              "--snr",
              "0.1",
              "--corrector-steps",
              "2",
              "--steps",
              "5",
              "--count",
              "8",
              "--out",
              out.toString(),
              "--json");
      assertEquals(0, r.code(), r.err());
      JsonNode j = r.json();
      assertEquals(8, j.get("count").asInt());
      float[] samples = Npz.read(Path.of(j.get("npz").asText())).get("samples").data();
      assertEquals(8 * 4, samples.length);
      for (float v : samples) {
        assertTrue(Float.isFinite(v), pair[0] + "/" + pair[1] + ": " + v);
      }
    }
  }

  @Test
  void badPredictorChoicesAreOneClearLine(@TempDir Path dir) throws Exception {
    Path run = vectorRun(dir, "vp-linear");
    CliTest.Result ode =
        CliTest.run("sample", run.toString(), "--sampler", "ode", "--predictor", "ancestral");
    assertEquals(2, ode.code());
    assertEquals(
        "scoreflow: error: --predictor applies to --sampler pc only, not ode", ode.err().strip());
    CliTest.Result unknown =
        CliTest.run(
            "sample", run.toString(), "--sampler", "pc", "--corrector", "hmc", "--steps", "2");
    assertEquals(2, unknown.code());
    assertEquals(
        "scoreflow: error: corrector 'hmc' is not one of none, langevin, ald",
        unknown.err().strip());
  }
}
