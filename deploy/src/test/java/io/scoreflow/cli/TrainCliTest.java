package io.scoreflow.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** train, resume and sample from the CLI, as a user runs them. */
class TrainCliTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** A small MLP run on Gaussian vectors: fast enough for many steps in a test. */
  private static Path mlpConfig(Path dir) throws Exception {
    Path conf = dir.resolve("mlp.conf");
    Files.writeString(
        conf,
        """
        scoreflow {
          job.name = mlp-test
          sde.name = vp-linear
          model { arch = mlp, mlp { hidden = 32, layers = 2 } }
          data { source = gaussian, random-flip = false, gaussian { dim = 4, mean = 1.0, std = 0.5, size = 4096 } }
          train {
            batch-size = 32
            ema-rate = 0.99
            optim { lr = 1e-3, warmup = 5 }
            log-every = 5
            checkpoint-every = 10
          }
        }
        """);
    return conf;
  }

  private static byte[] file(Path run, long step, String name) throws Exception {
    return Files.readAllBytes(
        run.resolve("checkpoints").resolve(String.format("step-%09d", step)).resolve(name));
  }

  @Test
  void killedAndResumedRunEqualsTheUninterruptedOneBitForBit(@TempDir Path dir) throws Exception {
    Path conf = mlpConfig(dir);
    Path straight = dir.resolve("straight");
    Path resumed = dir.resolve("resumed");
    assertEquals(
        0,
        CliTest.run("train", conf.toString(), "--steps", "40", "--out", straight.toString())
            .code());
    assertEquals(
        0,
        CliTest.run("train", conf.toString(), "--steps", "20", "--out", resumed.toString()).code());
    CliTest.Result again =
        CliTest.run(
            "train", conf.toString(), "--steps", "40", "--out", resumed.toString(), "--resume");
    assertEquals(0, again.code(), again.err());
    for (String f : List.of("model.safetensors", "ema.safetensors", "optimizer.safetensors")) {
      assertArrayEquals(file(straight, 40, f), file(resumed, 40, f), f + " differs after resume");
    }
    // The event log of the resumed run covers every step once, in order, across the restart.
    List<JsonNode> steps =
        Files.readAllLines(resumed.resolve("events.jsonl")).stream()
            .map(TrainCliTest::parse)
            .filter(e -> e.get("event").asText().equals("step"))
            .toList();
    assertEquals(
        List.of(4L, 9L, 14L, 19L, 24L, 29L, 34L, 39L),
        steps.stream().map(e -> e.get("step").asLong()).toList());
  }

  @Test
  void refusesToOverwriteARunAndToResumeWithAnotherConfig(@TempDir Path dir) throws Exception {
    Path conf = mlpConfig(dir);
    Path run = dir.resolve("run");
    assertEquals(
        0, CliTest.run("train", conf.toString(), "--steps", "10", "--out", run.toString()).code());
    CliTest.Result again =
        CliTest.run("train", conf.toString(), "--steps", "20", "--out", run.toString());
    assertEquals(2, again.code());
    assertTrue(again.err().contains("already holds a run"), again.err());
    assertTrue(again.err().contains("--resume"), again.err());
    CliTest.Result changed =
        CliTest.run(
            "train",
            conf.toString(),
            "--steps",
            "20",
            "--out",
            run.toString(),
            "--resume",
            "--set",
            "scoreflow.model.mlp.hidden=64");
    assertEquals(2, changed.code());
    assertTrue(changed.err().contains("cannot resume: scoreflow.model"), changed.err());
    // Nothing was lost: the run still resumes with its own config.
    assertEquals(
        0,
        CliTest.run("train", conf.toString(), "--steps", "20", "--out", run.toString(), "--resume")
            .code());
  }

  @Test
  void badConfigsAreOneLine(@TempDir Path dir) throws Exception {
    CliTest.Result missing = CliTest.run("train", "no-such-preset");
    assertEquals(2, missing.code());
    assertTrue(missing.err().contains("neither a config file nor a preset"), missing.err());
    assertTrue(missing.err().contains("quick-cpu"), "lists presets: " + missing.err());
    CliTest.Result badSource =
        CliTest.run(
            "train",
            mlpConfig(dir).toString(),
            "--out",
            dir.resolve("x").toString(),
            "--set",
            "scoreflow.data.source=imagenet");
    assertEquals(2, badSource.code());
    assertTrue(badSource.err().contains("scoreflow.data.source 'imagenet'"), badSource.err());
    CliTest.Result cifar =
        CliTest.run("train", "cifar10-vp-linear", "--out", dir.resolve("c").toString());
    assertEquals(2, cifar.code());
    assertTrue(cifar.err().contains("scoreflow.data.path"), cifar.err());
    CliTest.Result badBatch =
        CliTest.run(
            "train",
            mlpConfig(dir).toString(),
            "--out",
            dir.resolve("b").toString(),
            "--set",
            "scoreflow.train.batch-size=abc");
    assertEquals(2, badBatch.code());
    assertEquals(
        "scoreflow: error: scoreflow.train.batch-size = \"abc\": expected a whole number (--set)",
        badBatch.err().strip());
    assertFalse(Files.exists(dir.resolve("b")), "a refused start leaves nothing");
  }

  @Test
  void trainsAnImageModelAndSamplesAGrid(@TempDir Path dir) throws Exception {
    Path images = dir.resolve("images");
    Files.createDirectories(images);
    for (int i = 0; i < 8; i++) {
      BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
      for (int y = 0; y < 16; y++) {
        for (int x = 0; x < 16; x++) {
          img.setRGB(x, y, ((x * 16 + i) << 16) | ((y * 16) << 8) | (i * 30));
        }
      }
      ImageIO.write(img, "png", images.resolve("img" + i + ".png").toFile());
    }
    Path run = dir.resolve("run");
    CliTest.Result train =
        CliTest.run(
            "train",
            "quick-cpu",
            "--steps",
            "2",
            "--out",
            run.toString(),
            "--set",
            "scoreflow.data.source=folder",
            "--set",
            "scoreflow.data.path=" + images,
            "--set",
            "scoreflow.train.batch-size=4",
            "--set",
            "scoreflow.model.nf=8");
    assertEquals(0, train.code(), train.err());
    CliTest.Result sample =
        CliTest.run(
            "sample",
            run.toString(),
            "--steps",
            "3",
            "--count",
            "6",
            "--batch",
            "4",
            "--json",
            "--sampler",
            "pc");
    assertEquals(0, sample.code(), sample.err());
    JsonNode j = JSON.readTree(sample.out());
    assertEquals(2, j.get("checkpoint_step").asInt());
    BufferedImage grid = ImageIO.read(Path.of(j.get("png").asText()).toFile());
    assertNotNull(grid);
    assertTrue(Files.size(Path.of(j.get("npz").asText())) > 6 * 3 * 16 * 16 * 4);
  }

  private static JsonNode parse(String line) {
    try {
      return JSON.readTree(line);
    } catch (Exception e) {
      throw new IllegalStateException(line, e);
    }
  }
}
