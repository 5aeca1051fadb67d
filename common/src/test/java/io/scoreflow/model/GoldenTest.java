package io.scoreflow.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The port against outputs of the reference PyTorch code (score_sde, nf = 32, seeded random
 * weights, eval mode): max |Δout| ≤ 1e-4 · max |out|.
 */
class GoldenTest {
  static final double TOLERANCE = 1e-4;

  static Path golden(String file) {
    try {
      return Path.of(GoldenTest.class.getResource("/golden/" + file).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Returns max |Δout| / max |out|. */
  static double relativeError(ScoreNetConfig config, String prefix, Path outDir) throws Exception {
    Path out = outDir.resolve(prefix + "_out.safetensors");
    ScoreNetworks.forwardFile(
        config, golden(prefix + "_weights.safetensors"), golden(prefix + "_io.safetensors"), out);
    try (NDManager m = NDManager.newBaseManager()) {
      Map<String, NDArray> expected = Weights.read(m, golden(prefix + "_io.safetensors"));
      Map<String, NDArray> actual = Weights.read(m, out);
      NDArray want = expected.get("out");
      NDArray got = actual.get("out");
      assertEquals(want.getShape(), got.getShape());
      double maxOut = want.abs().max().getFloat();
      double maxDiff = got.sub(want).abs().max().getFloat();
      System.out.printf(
          "golden %s: max|out| = %.6g, max|Δout| = %.6g, relative %.3g%n",
          prefix, maxOut, maxDiff, maxDiff / maxOut);
      return maxDiff / maxOut;
    }
  }

  @Test
  void ddpmppMatchesReference(@TempDir Path dir) throws Exception {
    double rel = relativeError(ScoreNetConfig.ddpmppCont().withNf(32), "ddpmpp", dir);
    assertTrue(rel <= TOLERANCE, "DDPM++ relative error " + rel);
  }

  @Test
  void ncsnppMatchesReference(@TempDir Path dir) throws Exception {
    double rel = relativeError(ScoreNetConfig.ncsnppCont().withNf(32), "ncsnpp", dir);
    assertTrue(rel <= TOLERANCE, "NCSN++ relative error " + rel);
    assertTrue(Files.size(dir.resolve("ncsnpp_out.safetensors")) > 0);
  }
}
