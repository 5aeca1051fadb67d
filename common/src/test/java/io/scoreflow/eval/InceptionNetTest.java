package io.scoreflow.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.scoreflow.InvalidInputException;
import io.scoreflow.data.SampleShape;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Inception loading path on a stand-in with the same calling contract as {@code
 * inception-2015-12-05.pt} ({@code tools/reference/tiny_inception.py}, made with Debian's
 * python3-torch): features and class probabilities through DJL agree with PyTorch's own outputs,
 * the Inception Score formula agrees with the script's, and a bad file is one clear error.
 */
class InceptionNetTest {

  @TempDir Path dir;

  private Path resource(String name) throws Exception {
    Path file = dir.resolve(name);
    try (InputStream in = getClass().getResourceAsStream("/reference/" + name)) {
      Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
    }
    return file;
  }

  /** The script's input: 4 images 3×8×8, x[n,c,h,w] = ((7n + 5c + 3h + w) mod 11) / 10. */
  private static float[] images() {
    float[] x = new float[4 * 3 * 8 * 8];
    int k = 0;
    for (int n = 0; n < 4; n++) {
      for (int c = 0; c < 3; c++) {
        for (int h = 0; h < 8; h++) {
          for (int w = 0; w < 8; w++) {
            x[k++] = ((n * 7 + c * 5 + h * 3 + w) % 11) / 10f;
          }
        }
      }
    }
    return x;
  }

  @Test
  void featuresAndProbabilitiesMatchPyTorch() throws Exception {
    JsonNode ref = new ObjectMapper().readTree(resource("tiny-inception.json").toFile());
    try (InceptionNet net = InceptionNet.load(resource("tiny-inception.pt"), Device.cpu())) {
      // Batches of 3 over 4 images: the second batch is partial.
      InceptionNet.Outputs out = net.run(images(), SampleShape.image(3, 8, 8), 4, 3);
      assertEquals(16, out.dim());
      assertEquals(10, out.classes());
      for (int n = 0; n < 4; n++) {
        for (int j = 0; j < 16; j++) {
          // float32 forward passes in two libtorch versions (1.13 and 2.7): a few ulps apart.
          assertEquals(
              ref.get("features").get(n).get(j).asDouble(), out.features()[n * 16 + j], 1e-6);
        }
        for (int j = 0; j < 10; j++) {
          assertEquals(
              ref.get("probabilities").get(n).get(j).asDouble(),
              out.probabilities()[n * 10 + j],
              1e-6);
        }
      }
    }
  }

  @Test
  void inceptionScoreMatchesTheScript() throws Exception {
    JsonNode ref = new ObjectMapper().readTree(resource("tiny-inception.json").toFile());
    double[] p = new double[40];
    for (int n = 0; n < 4; n++) {
      for (int j = 0; j < 10; j++) {
        p[n * 10 + j] = ref.get("probabilities").get(n).get(j).asDouble();
      }
    }
    double expected = ref.get("inception_score_2_splits").asDouble();
    double got = InceptionNet.inceptionScore(p, 4, 10, 2);
    // The score is barely above 1 here, so compare the excess over 1: the informative part.
    assertEquals(expected - 1, got - 1, 1e-9 * (expected - 1) + 1e-15);
    // Certain, one-hot predictions of distinct classes: IS = number of classes used.
    double[] oneHot = new double[4 * 4];
    for (int n = 0; n < 4; n++) {
      oneHot[n * 4 + n] = 1;
    }
    assertEquals(4.0, InceptionNet.inceptionScore(oneHot, 4, 4, 1), 1e-12);
  }

  @Test
  void aFileThatIsNotTorchScriptIsOneClearError() throws Exception {
    Path bogus = dir.resolve("inception-2015-12-05.pt");
    Files.writeString(bogus, "not a TorchScript archive");
    InvalidInputException e =
        assertThrows(InvalidInputException.class, () -> InceptionNet.load(bogus, Device.cpu()));
    assertTrue(e.getMessage().contains("is not a loadable TorchScript module"), e.getMessage());
    assertTrue(e.getMessage().contains(bogus.toString()), e.getMessage());
    assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
    InvalidInputException missing =
        assertThrows(
            InvalidInputException.class,
            () -> InceptionNet.load(dir.resolve("absent.pt"), Device.cpu()));
    assertTrue(missing.getMessage().contains("no file"), missing.getMessage());
  }
}
