package io.scoreflow.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoreflow.InvalidInputException;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PngFolderTest {
  @TempDir Path dir;

  private Path png(String name, BufferedImage image) throws IOException {
    Path file = dir.resolve(name);
    assertTrue(ImageIO.write(image, "png", file.toFile()));
    return file;
  }

  /** A gray image whose pixel (x, y) is {@code seed + 10x + y}. */
  static BufferedImage gray(int width, int height, int seed) {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        image.getRaster().setSample(x, y, 0, (seed + 10 * x + y) & 0xFF);
      }
    }
    return image;
  }

  static BufferedImage rgb(int width, int height, int seed) {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        int r = (seed + x) & 0xFF;
        int g = (seed + 2 * y) & 0xFF;
        int b = (seed + x * y) & 0xFF;
        image.setRGB(x, y, (r << 16) | (g << 8) | b);
      }
    }
    return image;
  }

  @Test
  void grayscaleFolderHasOneChannelWithTheStoredValues() throws IOException {
    png("b.png", gray(5, 3, 100));
    png("a.png", gray(5, 3, 0));
    Files.writeString(dir.resolve("notes.txt"), "not an image, ignored");
    Dataset data = PngFolder.open(dir);
    assertEquals(2, data.size());
    assertEquals(SampleShape.image(1, 3, 5), data.shape());
    float[] first = data.get(0); // a.png: file-name order
    assertEquals((10 * 4 + 2) / 255f, first[2 * 5 + 4], 0f); // x = 4, y = 2
    assertEquals((100 + 10 * 4 + 2) / 255f, data.get(1)[2 * 5 + 4], 0f);
  }

  @Test
  void rgbFolderIsChannelMajor() throws IOException {
    png("0.png", rgb(4, 3, 7));
    Dataset data = PngFolder.open(dir);
    assertEquals(SampleShape.image(3, 3, 4), data.shape());
    float[] s = data.get(0);
    int x = 3;
    int y = 2;
    int p = y * 4 + x;
    assertEquals((7 + x) / 255f, s[p], 0f);
    assertEquals((7 + 2 * y) / 255f, s[12 + p], 0f);
    assertEquals((7 + x * y) / 255f, s[24 + p], 0f);
  }

  @Test
  void grayAmongColourIsRepeatedInThreeChannels() throws IOException {
    png("0.png", rgb(4, 3, 7));
    png("1.png", gray(4, 3, 50));
    Dataset data = PngFolder.open(dir);
    assertEquals(3, ((SampleShape.Image) data.shape()).channels());
    float[] s = data.get(1);
    for (int c = 0; c < 3; c++) {
      assertEquals((50 + 10 + 2) / 255f, s[c * 12 + 2 * 4 + 1], 0f);
    }
  }

  @Test
  void paletteAnd16BitFilesAreRead() throws IOException {
    byte[] reds = {0, (byte) 200};
    byte[] greens = {0, 10};
    byte[] blues = {0, 20};
    BufferedImage palette =
        new BufferedImage(
            2, 1, BufferedImage.TYPE_BYTE_BINARY, new IndexColorModel(1, 2, reds, greens, blues));
    palette.getRaster().setSample(1, 0, 0, 1);
    png("p.png", palette);
    Dataset data = PngFolder.open(dir);
    float[] s = data.get(0);
    assertEquals(200 / 255f, s[1], 0f);
    assertEquals(10 / 255f, s[2 + 1], 0f);
    assertEquals(20 / 255f, s[4 + 1], 0f);

    Path sixteen = Files.createDirectory(dir.resolve("sixteen"));
    BufferedImage deep = new BufferedImage(2, 1, BufferedImage.TYPE_USHORT_GRAY);
    deep.getRaster().setSample(1, 0, 0, 65535);
    deep.getRaster().setSample(0, 0, 0, 257 * 100);
    assertTrue(ImageIO.write(deep, "png", sixteen.resolve("d.png").toFile()));
    float[] d = PngFolder.open(sixteen).get(0);
    assertEquals(100 / 255f, d[0], 0f);
    assertEquals(1f, d[1], 0f);
  }

  @Test
  void differentlySizedFileIsNamed() throws IOException {
    png("a.png", gray(5, 3, 0));
    Path odd = png("b.png", gray(5, 4, 0));
    InvalidInputException e = assertThrows(InvalidInputException.class, () -> PngFolder.open(dir));
    assertEquals(
        odd + ": is 5×4 but a.png is 5×3 (all images of a folder must have one size)",
        e.getMessage());
  }

  @Test
  void badFileIsNamed() throws IOException {
    png("a.png", gray(5, 3, 0));
    Path bad = Files.write(dir.resolve("b.png"), new byte[] {1, 2, 3, 4});
    InvalidInputException e = assertThrows(InvalidInputException.class, () -> PngFolder.open(dir));
    assertTrue(e.getMessage().startsWith(bad + ": not a PNG image"), e.getMessage());
  }

  @Test
  void truncatedPngIsNamed() throws IOException {
    Path whole = png("a.png", rgb(64, 64, 3));
    byte[] bytes = Files.readAllBytes(whole);
    Files.write(whole, java.util.Arrays.copyOf(bytes, bytes.length / 2));
    InvalidInputException e = assertThrows(InvalidInputException.class, () -> PngFolder.open(dir));
    assertTrue(e.getMessage().startsWith(whole + ": not a readable PNG"), e.getMessage());
  }

  @Test
  void emptyOrMissingFolderIsNamed() {
    InvalidInputException e = assertThrows(InvalidInputException.class, () -> PngFolder.open(dir));
    assertEquals(dir + ": has no .png files", e.getMessage());
    Path missing = dir.resolve("missing");
    e = assertThrows(InvalidInputException.class, () -> PngFolder.open(missing));
    assertTrue(e.getMessage().startsWith(missing + ": no such directory"), e.getMessage());
  }
}
