package io.scoreflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.scoreflow.data.Npz;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
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

  /** A 16×16 RGB image: a red-green ramp with a blue square. */
  private static BufferedImage picture(int i) {
    BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 16; y++) {
      for (int x = 0; x < 16; x++) {
        int blue = (x >= 4 && x < 12 && y >= 4 && y < 12) ? 220 : 20 * i;
        img.setRGB(x, y, ((x * 16) << 16) | ((y * 16) << 8) | blue);
      }
    }
    return img;
  }

  /** A tiny image run: the quick-cpu network at nf = 8 on eight 16×16 RGB images, 2 steps. */
  static Path imageRun(Path dir) throws Exception {
    Path images = dir.resolve("images");
    Files.createDirectories(images);
    for (int i = 0; i < 8; i++) {
      ImageIO.write(picture(i), "png", images.resolve("img" + i + ".png").toFile());
    }
    Path run = dir.resolve("image-run");
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
    return run;
  }

  private static Path png(Path file, BufferedImage image) throws Exception {
    ImageIO.write(image, "png", file.toFile());
    return file;
  }

  /** White (keep) on the left half, black (fill) on the right. */
  private static BufferedImage halfMask(int width, int height) {
    BufferedImage mask = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        mask.getRaster().setSample(x, y, 0, x < width / 2 ? 255 : 0);
      }
    }
    return mask;
  }

  @Test
  void inpaintingAndColorisationWriteTheirGrids(@TempDir Path dir) throws Exception {
    Path run = imageRun(dir);
    Path image = png(dir.resolve("input.png"), picture(3));
    Path mask = png(dir.resolve("mask.png"), halfMask(16, 16));
    Path out = dir.resolve("out/inpaint");
    CliTest.Result r =
        CliTest.run(
            "sample",
            run.toString(),
            "--inpaint",
            image.toString(),
            "--mask",
            mask.toString(),
            "--sampler",
            "pc",
            "--predictor",
            "reverse-diffusion",
            "--corrector",
            "langevin",
            "--steps",
            "4",
            "--count",
            "2",
            "--out",
            out.toString(),
            "--json");
    assertEquals(0, r.code(), r.err());
    JsonNode j = r.json();
    BufferedImage grid = ImageIO.read(Path.of(j.get("png").asText()).toFile());
    // Rows of (image, mask, result): 3 columns, 2 rows of 16×16 images with 2-pixel padding.
    assertEquals(3 * 18 + 2, grid.getWidth());
    assertEquals(2 * 18 + 2, grid.getHeight());
    // The kept (left) pixels of every result are the input's, up to float rounding of the
    // [0, 1] -> [-1, 1] -> [0, 1] scaling; the grid's first column is the input itself.
    float[] samples = Npz.read(Path.of(j.get("npz").asText())).get("samples").data();
    BufferedImage input = picture(3);
    int plane = 16 * 16;
    for (int n = 0; n < 2; n++) {
      for (int y = 0; y < 16; y++) {
        for (int x = 0; x < 8; x++) {
          int rgb = input.getRGB(x, y);
          int[] channels = {(rgb >> 16) & 0xFF, (rgb >> 8) & 0xFF, rgb & 0xFF};
          for (int c = 0; c < 3; c++) {
            float got = samples[n * 3 * plane + c * plane + y * 16 + x];
            assertEquals(channels[c] / 255f, got, 1e-6, "sample " + n + " (" + x + "," + y + ")");
          }
        }
      }
      assertEquals(input.getRGB(5, 9), grid.getRGB(2 + 5, 2 + n * 18 + 9));
      assertEquals(input.getRGB(5, 9), grid.getRGB(2 + 2 * 18 + 5, 2 + n * 18 + 9));
    }
    Path colour = dir.resolve("out/colorize");
    CliTest.Result c =
        CliTest.run(
            "sample",
            run.toString(),
            "--colorize",
            image.toString(),
            "--sampler",
            "pc",
            "--steps",
            "4",
            "--count",
            "2",
            "--out",
            colour.toString(),
            "--json");
    assertEquals(0, c.code(), c.err());
    float[] coloured = Npz.read(Path.of(c.json().get("npz").asText())).get("samples").data();
    // Every result keeps the input's gray scale (the channel mean) at every pixel, to float32
    // precision of the colours: an untrained network's colours can be far outside [0, 1], and
    // the gray is their mean.
    double largest = 0;
    for (float v : coloured) {
      largest = Math.max(largest, Math.abs(v));
    }
    for (int n = 0; n < 2; n++) {
      for (int p = 0; p < plane; p++) {
        int rgb = input.getRGB(p % 16, p / 16);
        double gray = (((rgb >> 16) & 0xFF) + ((rgb >> 8) & 0xFF) + (rgb & 0xFF)) / 3.0 / 255;
        double mean = 0;
        for (int ch = 0; ch < 3; ch++) {
          mean += coloured[n * 3 * plane + ch * plane + p] / 3.0;
        }
        assertEquals(gray, mean, 1e-6 * (1 + largest), "sample " + n + " pixel " + p);
      }
    }
    assertTrue(Files.isRegularFile(Path.of(c.json().get("png").asText())));
  }

  @Test
  void badGuidesAreOneClearLine(@TempDir Path dir) throws Exception {
    Path run = imageRun(dir);
    Path image = png(dir.resolve("input.png"), picture(1));
    Path mask = png(dir.resolve("mask.png"), halfMask(16, 16));
    Path small = png(dir.resolve("small-mask.png"), halfMask(8, 8));
    Path colourMask = png(dir.resolve("colour-mask.png"), picture(2));
    BufferedImage big = new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB);
    Path bigImage = png(dir.resolve("big.png"), big);
    String[][] cases = {
      {"--inpaint", image.toString(), "--mask", small.toString()},
      {"--inpaint", image.toString(), "--mask", colourMask.toString()},
      {"--inpaint", bigImage.toString(), "--mask", mask.toString()},
      {"--inpaint", image.toString()},
      {"--mask", mask.toString()},
      {"--colorize", image.toString(), "--sampler", "ode"},
    };
    String[] expected = {
      "mask " + small + " is 8x8 but image " + image + " is 16x16",
      "mask " + colourMask + " must be a grayscale PNG (white: keep, black: fill)",
      bigImage + " is 32x32 but the run's model makes 16x16 images",
      "--inpaint needs --mask MASK",
      "--mask applies to --inpaint only",
      "--colorize needs --sampler pc or euler-maruyama (predictor-corrector), not ode",
    };
    for (int i = 0; i < cases.length; i++) {
      String[] args = new String[cases[i].length + 4];
      args[0] = "sample";
      args[1] = run.toString();
      args[2] = "--steps";
      args[3] = "2";
      System.arraycopy(cases[i], 0, args, 4, cases[i].length);
      CliTest.Result r = CliTest.run(args);
      assertEquals(2, r.code(), r.err());
      String err = r.err().strip();
      assertTrue(err.startsWith("scoreflow: error: " + expected[i]), err);
      assertEquals(1, err.lines().count(), err);
    }
  }
}
