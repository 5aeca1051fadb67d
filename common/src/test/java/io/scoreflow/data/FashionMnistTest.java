package io.scoreflow.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real Fashion-MNIST files that Debian's {@code dataset-fashion-mnist} package installs. */
class FashionMnistTest {
  static final Path DEBIAN_DIR = Path.of("/usr/share/datasets/fashion-mnist");

  @BeforeEach
  void requireThePackage() {
    assumeTrue(
        Files.isRegularFile(DEBIAN_DIR.resolve("train-images-idx3-ubyte.gz")),
        "Fashion-MNIST not installed: skipped (apt-get install dataset-fashion-mnist puts it in "
            + DEBIAN_DIR
            + ")");
  }

  @Test
  void readsTheSixtyThousandTrainingImages() {
    Dataset train = IdxImages.train(DEBIAN_DIR);
    assertEquals(60_000, train.size());
    assertEquals(SampleShape.image(1, 28, 28), train.shape());
    // The pixel mean of the training set is 0.2860 (published with the dataset's normalisation).
    float[] sample = new float[784];
    double sum = 0;
    double min = 1;
    double max = 0;
    for (int i = 0; i < train.size(); i++) {
      train.read(i, sample, 0);
      for (float v : sample) {
        sum += v;
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
    }
    assertEquals(0.2860, sum / (60_000.0 * 784), 5e-4);
    assertEquals(0.0, min);
    assertEquals(1.0, max);
  }

  @Test
  void readsTheTenThousandTestImages() {
    Dataset test = IdxImages.test(DEBIAN_DIR);
    assertEquals(10_000, test.size());
  }

  @Test
  void rendersAGridOfSixtyFourShuffledImages(@TempDir Path dir) throws IOException {
    BatchStream stream =
        BatchStream.builder()
            .dataset(IdxImages.train(DEBIAN_DIR))
            .globalBatchSize(64)
            .seed(1)
            .randomFlip(true)
            .build();
    Batch batch = stream.next();
    Path png = dir.resolve("fashion_grid.png");
    ImageGrid.write(batch.data(), (SampleShape.Image) batch.sampleShape(), 64, png);
    BufferedImage grid = ImageIO.read(png.toFile());
    assertEquals(8 * 30 + 2, grid.getWidth());
    assertEquals(8 * 30 + 2, grid.getHeight());
    assertEquals(BufferedImage.TYPE_BYTE_GRAY, grid.getType());
    // Clothes are light on black: a good share of the grid is ink.
    long lit = 0;
    for (int y = 0; y < grid.getHeight(); y++) {
      for (int x = 0; x < grid.getWidth(); x++) {
        lit += grid.getRaster().getSample(x, y, 0) > 64 ? 1 : 0;
      }
    }
    assertTrue(lit > grid.getWidth() * grid.getHeight() / 5, "lit pixels: " + lit);
  }
}
