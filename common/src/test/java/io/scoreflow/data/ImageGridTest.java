package io.scoreflow.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageGridTest {
  @TempDir Path dir;

  @Test
  void columnsMakeANearSquare() {
    assertEquals(1, ImageGrid.columnsFor(1));
    assertEquals(2, ImageGrid.columnsFor(2));
    assertEquals(2, ImageGrid.columnsFor(4));
    assertEquals(3, ImageGrid.columnsFor(5));
    assertEquals(4, ImageGrid.columnsFor(10));
    assertEquals(8, ImageGrid.columnsFor(64));
    assertEquals(9, ImageGrid.columnsFor(65));
  }

  @Test
  void grayGridHasPaddingAndPlacesImagesRowByRow() throws IOException {
    SampleShape.Image shape = SampleShape.image(1, 2, 3);
    int count = 5; // 3 columns, 2 rows, one empty cell
    float[] batch = new float[count * 6];
    for (int n = 0; n < count; n++) {
      for (int p = 0; p < 6; p++) {
        batch[n * 6 + p] = (n * 6 + p) / 40f;
      }
    }
    Path png = dir.resolve("grid.png");
    ImageGrid.write(batch, shape, count, png);
    BufferedImage grid = ImageIO.read(png.toFile());
    assertEquals(BufferedImage.TYPE_BYTE_GRAY, grid.getType());
    assertEquals(3 * (3 + 2) + 2, grid.getWidth());
    assertEquals(2 * (2 + 2) + 2, grid.getHeight());
    // Image 4 sits in row 1, column 1; its pixel (x=2, y=1) is batch[4*6 + 1*3 + 2].
    int x = 2 + 1 * 5 + 2;
    int y = 2 + 1 * 4 + 1;
    assertEquals(ImageGrid.toByte(batch[4 * 6 + 5]), grid.getRaster().getSample(x, y, 0));
    // Padding and the empty cell are black.
    assertEquals(0, grid.getRaster().getSample(0, 0, 0));
    assertEquals(0, grid.getRaster().getSample(5, 3, 0));
    assertEquals(0, grid.getRaster().getSample(2 + 2 * 5, 2 + 4, 0));
  }

  @Test
  void rgbChannelsLandInTheRightColours() throws IOException {
    SampleShape.Image shape = SampleShape.image(3, 1, 1);
    float[] batch = {1f, 0.5f, 0f};
    Path png = dir.resolve("rgb.png");
    ImageGrid.write(batch, shape, 1, png);
    BufferedImage grid = ImageIO.read(png.toFile());
    assertEquals(5, grid.getWidth());
    int rgb = grid.getRGB(2, 2);
    assertEquals(255, (rgb >> 16) & 0xFF);
    assertEquals(128, (rgb >> 8) & 0xFF);
    assertEquals(0, rgb & 0xFF);
  }

  @Test
  void valuesAreClampedAndRoundedAsTorchvision() {
    assertEquals(0, ImageGrid.toByte(-3f));
    assertEquals(0, ImageGrid.toByte(Float.NaN));
    assertEquals(255, ImageGrid.toByte(7f));
    assertEquals(255, ImageGrid.toByte(Float.POSITIVE_INFINITY));
    assertEquals(128, ImageGrid.toByte(0.5f)); // 127.5 rounds half up
    assertEquals(1, ImageGrid.toByte(1 / 255f));
  }

  @Test
  void wrongInputsAreRefused() {
    assertThrows(
        IllegalArgumentException.class,
        () -> ImageGrid.render(new float[8], SampleShape.image(2, 2, 2), 1));
    assertThrows(
        IllegalArgumentException.class,
        () -> ImageGrid.render(new float[3], SampleShape.image(1, 2, 2), 1));
    assertThrows(
        IllegalArgumentException.class,
        () -> ImageGrid.render(new float[4], SampleShape.image(1, 2, 2), 0));
  }
}
