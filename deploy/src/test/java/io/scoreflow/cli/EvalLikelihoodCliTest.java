package io.scoreflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code eval likelihood} on a tiny run as a user runs it. */
class EvalLikelihoodCliTest {

  private static final Path FASHION = Path.of("/usr/share/datasets/fashion-mnist");

  private static Path conf(Path dir, String name, String body) throws Exception {
    Path conf = dir.resolve(name);
    Files.writeString(conf, "scoreflow {\n" + body + "\n}\n");
    return conf;
  }

  private static String oneLine(CliTest.Result r) {
    assertEquals(2, r.code(), r.err());
    assertEquals(1, r.err().lines().count(), "one line: " + r.err());
    assertFalse(r.err().contains("Exception"), "no stack trace: " + r.err());
    return r.err().strip();
  }

  @Test
  void bitsPerDimOfATinyImageRun(@TempDir Path dir) throws Exception {
    Assumptions.assumeTrue(
        Files.isRegularFile(FASHION.resolve("t10k-images-idx3-ubyte.gz")),
        "needs Debian's dataset-fashion-mnist (installed by .ci/run)");
    Path conf =
        conf(
            dir,
            "unet.conf",
            """
              job.name = unet-likelihood
              sde.name = vp-linear
              model { arch = tiny-ddpmpp, nf = 8, ch-mult = [1, 2], attn-resolutions = [7], dropout = 0 }
              data { source = fashion-mnist, path = "%s", random-flip = false }
              train { batch-size = 4, optim { lr = 1e-3, warmup = 2 }, log-every = 1, checkpoint-every = 2 }
            """
                .formatted(FASHION));
    Path run = dir.resolve("run");
    CliTest.Result train = CliTest.run("train", "" + conf, "--steps", "2", "--out", "" + run);
    assertEquals(0, train.code(), train.err());

    CliTest.Result r =
        CliTest.run(
            "eval",
            "likelihood",
            "" + run,
            "--count",
            "3",
            "--batch",
            "2",
            "--rtol",
            "1e-3",
            "--atol",
            "1e-3",
            "--device",
            "cpu",
            "--json");
    assertEquals(0, r.code(), r.err());
    JsonNode j = r.json();
    for (String key : new String[] {"bpd", "bpd_stderr", "count", "nfe_mean", "checkpoint_step"}) {
      assertTrue(j.has(key), key + " in " + j);
    }
    double bpd = j.get("bpd").asDouble();
    assertTrue(Double.isFinite(bpd) && bpd > 0, j.toString());
    assertTrue(j.get("bpd_stderr").asDouble() >= 0, j.toString());
    assertEquals(3, j.get("count").asInt());
    assertEquals(2, j.get("checkpoint_step").asLong());
    // Two batches (2 + 1), each at least the first step and one attempt.
    assertTrue(j.get("nfe_mean").asDouble() >= 8, j.toString());
    assertTrue(j.get("dataset").asText().contains("t10k"), j.toString());

    // The same images, seed and probes: the same number; another seed, other noise.
    CliTest.Result again =
        CliTest.run(
            "eval",
            "likelihood",
            "" + run,
            "--count",
            "3",
            "--batch",
            "2",
            "--rtol",
            "1e-3",
            "--atol",
            "1e-3",
            "--device",
            "cpu",
            "--json");
    assertEquals(bpd, again.json().get("bpd").asDouble(), 0.0);

    CliTest.Result text =
        CliTest.run(
            "eval",
            "likelihood",
            "" + run,
            "--count",
            "1",
            "--rtol",
            "1e-2",
            "--atol",
            "1e-2",
            "--split",
            "train",
            "--device",
            "cpu");
    assertEquals(0, text.code(), text.err());
    assertTrue(text.out().contains("bits/dim over 1 images"), text.out());

    assertEquals(
        "scoreflow: error: --split must be test or train, got val",
        oneLine(CliTest.run("eval", "likelihood", "" + run, "--split", "val")));
    assertEquals(
        "scoreflow: error: --hutchinson must be gaussian or rademacher, got 'normal'",
        oneLine(CliTest.run("eval", "likelihood", "" + run, "--hutchinson", "normal")));
    assertTrue(
        oneLine(CliTest.run("eval", "likelihood", "" + run, "--count", "20000"))
            .startsWith("scoreflow: error: --count 20000 exceeds the 10000 images of"));
  }

  @Test
  void vectorRunsAreRefusedInOneLine(@TempDir Path dir) throws Exception {
    Path conf =
        conf(
            dir,
            "mlp.conf",
            """
              job.name = mlp-likelihood
              model { arch = mlp, mlp { hidden = 16, layers = 2 } }
              data { source = gaussian, random-flip = false, gaussian { dim = 2, size = 256 } }
              train { batch-size = 16, optim { lr = 1e-3, warmup = 2 }, log-every = 1, checkpoint-every = 2 }
            """);
    Path run = dir.resolve("run");
    assertEquals(0, CliTest.run("train", "" + conf, "--steps", "2", "--out", "" + run).code());
    String line = oneLine(CliTest.run("eval", "likelihood", "" + run, "--device", "cpu"));
    assertTrue(line.startsWith("scoreflow: error: eval likelihood measures 8-bit images"), line);
    assertEquals(
        "scoreflow: error: " + dir.resolve("nope") + " is not a run directory (no config.conf)",
        oneLine(CliTest.run("eval", "likelihood", "" + dir.resolve("nope"))));
  }
}
