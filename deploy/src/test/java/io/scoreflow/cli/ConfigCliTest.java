package io.scoreflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.scoreflow.train.TrainingDivergedException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every way a config or a run can be wrong ends in one line on stderr: exit 2 for bad input (with
 * nothing started or written), 1 for a training that diverged, 70 and the trace for a bug.
 */
class ConfigCliTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** A small MLP run on Gaussian vectors, with {@code extra} inside its scoreflow block. */
  private static Path mlp(Path dir, String name, String extra) throws Exception {
    Path conf = dir.resolve(name);
    Files.writeString(
        conf,
        """
        scoreflow {
          job.name = mlp-config
          model { arch = mlp, mlp { hidden = 16, layers = 2 } }
          data { source = gaussian, random-flip = false, gaussian { dim = 2, size = 256 } }
          train { batch-size = 16, optim { lr = 1e-3, warmup = 2 }, log-every = 1, checkpoint-every = 2 }
        %s
        }
        """
            .formatted(extra));
    return conf;
  }

  /** The single line of stderr of a refused command; fails unless there is exactly one. */
  private static String oneLine(CliTest.Result r) {
    assertEquals(1, r.err().lines().count(), "one line: " + r.err());
    assertFalse(r.err().contains("Exception"), "no stack trace: " + r.err());
    return r.err().strip();
  }

  @Test
  void aValueOfTheWrongTypeIsOneLineAndExitTwoAndNoRunDirectory(@TempDir Path dir)
      throws Exception {
    Path conf = mlp(dir, "bad.conf", "  train.batch-size = \"abc\"");
    Path run = dir.resolve("run");
    CliTest.Result r = CliTest.run("train", conf.toString(), "--out", run.toString());
    assertEquals(2, r.code(), r.err());
    assertEquals(
        "scoreflow: error: scoreflow.train.batch-size = \"abc\": expected a whole number ("
            + conf
            + ":6)",
        oneLine(r));
    assertFalse(Files.exists(run), "a refused start writes nothing");
  }

  @Test
  void aMisspeltKeyInAFileIsOneLineWithTheNearestKey(@TempDir Path dir) throws Exception {
    Path conf = mlp(dir, "typo.conf", "  train.batch-sizee = 8");
    Path run = dir.resolve("run");
    CliTest.Result r = CliTest.run("train", conf.toString(), "--out", run.toString());
    assertEquals(2, r.code(), r.err());
    assertEquals(
        "scoreflow: error: unknown config key scoreflow.train.batch-sizee ("
            + conf
            + ":6); did you mean scoreflow.train.batch-size?",
        oneLine(r));
    assertFalse(Files.exists(run), "a refused start writes nothing");
  }

  @Test
  void aMisspeltKeyOfSetIsOneLine(@TempDir Path dir) throws Exception {
    Path run = dir.resolve("run");
    CliTest.Result r =
        CliTest.run(
            "train",
            mlp(dir, "ok.conf", "").toString(),
            "--out",
            run.toString(),
            "--set",
            "scoreflow.nope=1");
    assertEquals(2, r.code(), r.err());
    assertEquals(
        "scoreflow: error: unknown config key scoreflow.nope (--set); scoreflow has cluster, data,"
            + " eval, job, model, sample, sde, train",
        oneLine(r));
    assertFalse(Files.exists(run));
    CliTest.Result cluster =
        CliTest.run(
            "train",
            mlp(dir, "ok2.conf", "").toString(),
            "--out",
            run.toString(),
            "--set",
            "scoreflow.cluster.step-timout=10m");
    assertEquals(2, cluster.code(), cluster.err());
    assertEquals(
        "scoreflow: error: unknown config key scoreflow.cluster.step-timout (--set); did you mean"
            + " scoreflow.cluster.step-timeout?",
        oneLine(cluster));
    CliTest.Result pekko =
        CliTest.run("train", "quick-cpu", "--out", run.toString(), "--set", "pekko.loglevel=DEBUG");
    assertEquals(2, pekko.code(), pekko.err());
    assertTrue(oneLine(pekko).contains("unknown top-level config key pekko (--set)"), pekko.err());
    assertFalse(Files.exists(run));
  }

  @Test
  void aBadConfigLeavesAnExistingRunUntouched(@TempDir Path dir) throws Exception {
    Path run = dir.resolve("run");
    Path conf = mlp(dir, "ok.conf", "");
    CliTest.Result first = CliTest.run("train", conf.toString(), "--steps", "2", "--out", "" + run);
    assertEquals(0, first.code(), first.err());
    Map<Path, byte[]> before = snapshot(run);
    for (String[] args :
        new String[][] {
          {"train", conf.toString(), "--out", "" + run, "--set", "scoreflow.train.eps=small"},
          {"train", conf.toString(), "--out", "" + run, "--resume", "--set", "scoreflow.x=1"},
          {"train", mlp(dir, "t.conf", "  model.nf = 8x").toString(), "--out", "" + run},
        }) {
      CliTest.Result r = CliTest.run(args);
      assertEquals(2, r.code(), r.err());
      oneLine(r);
    }
    Map<Path, byte[]> after = snapshot(run);
    assertEquals(before.keySet(), after.keySet());
    before.forEach((p, bytes) -> assertTrue(java.util.Arrays.equals(bytes, after.get(p)), "" + p));
  }

  @Test
  void anOptionalModelKeyOfTheWrongTypeIsOneLine(@TempDir Path dir) throws Exception {
    Path images = dir.resolve("images");
    Files.createDirectories(images);
    for (int i = 0; i < 2; i++) {
      javax.imageio.ImageIO.write(
          new java.awt.image.BufferedImage(8, 8, java.awt.image.BufferedImage.TYPE_BYTE_GRAY),
          "png",
          images.resolve("i" + i + ".png").toFile());
    }
    Path run = dir.resolve("run");
    CliTest.Result r =
        CliTest.run(
            "train",
            "quick-cpu",
            "--out",
            run.toString(),
            "--set",
            "scoreflow.data.source=folder",
            "--set",
            "scoreflow.data.path=" + images,
            "--set",
            "scoreflow.model.nf=wide");
    assertEquals(2, r.code(), r.err());
    assertEquals(
        "scoreflow: error: scoreflow.model.nf = \"wide\": expected a whole number (--set)",
        oneLine(r));
    assertFalse(Files.exists(run));
    CliTest.Result rho =
        CliTest.run(
            "train", mlp(dir, "rho.conf", "  sde { name = vp-linear, rho = 3 }").toString());
    assertEquals(2, rho.code(), rho.err());
    assertEquals(
        "scoreflow: error: scoreflow.sde.rho does not apply to vp-linear (it takes beta-min,"
            + " beta-max)",
        oneLine(rho));
  }

  @Test
  void aConfigOfTheSdeCommandsIsCheckedToo(@TempDir Path dir) throws Exception {
    Path conf = dir.resolve("sde.conf");
    Files.writeString(conf, "scoreflow.sde.vp-linear { beta-mx = 10 }\n");
    CliTest.Result r =
        CliTest.run("sde", "--sde", "vp-linear", "--t", "0.5", "--config", "" + conf);
    assertEquals(2, r.code(), r.err());
    assertTrue(oneLine(r).endsWith("did you mean scoreflow.sde.vp-linear.beta-max?"), r.err());
  }

  @Test
  void usageErrorsAreOneLine() {
    for (String[] args :
        new String[][] {
          {"train", "quick-cpu", "--workers", "x"},
          {"train", "quick-cpu", "--no-such-flag"},
          {"sample"},
          {"train"},
        }) {
      CliTest.Result r = CliTest.run(args);
      assertEquals(2, r.code(), String.join(" ", args) + ": " + r.err());
      assertTrue(oneLine(r).startsWith("scoreflow: error: "), r.err());
    }
  }

  @Test
  void aDivergedTrainingIsOneLineAndExitOne(@TempDir Path dir) throws Exception {
    Path run = dir.resolve("run");
    CliTest.Result r =
        CliTest.run(
            "train",
            mlp(dir, "hot.conf", "  train.optim { lr = 1e30, warmup = 0 }").toString(),
            "--steps",
            "20",
            "--out",
            run.toString(),
            "--device",
            "cpu");
    assertEquals(1, r.code(), r.err());
    assertFalse(r.err().contains("Exception"), "no stack trace: " + r.err());
    var errors = r.err().lines().filter(l -> l.contains("error")).toList();
    assertEquals(1, errors.size(), r.err());
    assertTrue(
        errors.get(0).matches("scoreflow: error: training diverged at step \\d+: loss is .*"),
        r.err());
    assertTrue(errors.get(0).contains("lower scoreflow.train.optim.lr"), r.err());
    assertTrue(r.err().strip().endsWith(errors.get(0)), "the error is the last line: " + r.err());
  }

  @Test
  void sampleTakesItsDefaultsFromTheRunsConfig(@TempDir Path dir) throws Exception {
    Path run = dir.resolve("run");
    Path conf = mlp(dir, "s.conf", "  sample { sampler = ode, steps = 3, count = 5 }");
    assertEquals(0, CliTest.run("train", "" + conf, "--steps", "2", "--out", "" + run).code());
    CliTest.Result r = CliTest.run("sample", run.toString(), "--json", "--device", "cpu");
    assertEquals(0, r.code(), r.err());
    JsonNode j = JSON.readTree(r.out());
    assertEquals(5, j.get("count").asInt());
    assertTrue(j.get("npz").asText().endsWith("-ode-3.npz"), j.toString());
    // ode is adaptive RK45: at least its first step and one attempt (2 + 6) and the final Euler
    // step.
    assertTrue(j.get("nfe").asDouble() >= 9, j.toString());
    CliTest.Result flags =
        CliTest.run(
            "sample", "" + run, "--json", "--steps", "2", "--count", "1", "--device", "cpu");
    assertEquals(0, flags.code(), flags.err());
    JsonNode f = JSON.readTree(flags.out());
    assertEquals(1, f.get("count").asInt());
    assertTrue(f.get("npz").asText().endsWith("-ode-2.npz"), f.toString());
    CliTest.Result euler =
        CliTest.run(
            "sample",
            "" + run,
            "--json",
            "--sampler",
            "ode-euler",
            "--steps",
            "4",
            "--count",
            "3",
            "--batch",
            "2",
            "--device",
            "cpu");
    assertEquals(0, euler.code(), euler.err());
    assertEquals(4.0, JSON.readTree(euler.out()).get("nfe").asDouble(), 0.0, euler.out());
    CliTest.Result loose =
        CliTest.run(
            "sample",
            "" + run,
            "--json",
            "--rtol",
            "1e-2",
            "--atol",
            "1e-2",
            "--count",
            "1",
            "--device",
            "cpu");
    assertEquals(0, loose.code(), loose.err());
    assertTrue(
        JSON.readTree(loose.out()).get("nfe").asDouble() < j.get("nfe").asDouble(),
        loose.out() + " vs " + j);
    CliTest.Result bad = CliTest.run("sample", "" + run, "--rtol", "0", "--device", "cpu");
    assertEquals(2, bad.code(), bad.err());
    assertTrue(bad.err().strip().endsWith("--rtol must be in (0, 1), got 0.0"), bad.err());
  }

  @Test
  void fileErrorsAreOneLineAndBugsSayInternalError() {
    StringWriter text = new StringWriter();
    PrintWriter err = new PrintWriter(text, true);
    int code =
        Main.report(
            new UncheckedIOException("cannot write x", new NoSuchFileException("/nope/x")), err);
    assertEquals(2, code);
    assertEquals(
        "scoreflow: error: cannot write x: /nope/x: no such file or directory",
        text.toString().strip());

    text.getBuffer().setLength(0);
    assertEquals(1, Main.report(new TrainingDivergedException(7, "loss is NaN"), err));
    assertTrue(text.toString().startsWith("scoreflow: error: training diverged at step 7:"));
    assertEquals(1, text.toString().lines().count());

    text.getBuffer().setLength(0);
    assertEquals(Main.EXIT_INTERNAL, Main.report(new NullPointerException("oops"), err));
    String first = text.toString().lines().findFirst().orElseThrow();
    assertTrue(first.startsWith("scoreflow: internal error"), first);
    assertTrue(text.toString().contains("at "), "the trace of a bug: " + text);
  }

  private static Map<Path, byte[]> snapshot(Path dir) throws Exception {
    Map<Path, byte[]> files = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.filter(Files::isRegularFile).toList()) {
        files.put(dir.relativize(p), Files.readAllBytes(p));
      }
    }
    return files;
  }
}
