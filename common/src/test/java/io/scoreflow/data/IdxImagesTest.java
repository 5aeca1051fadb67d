package io.scoreflow.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoreflow.InvalidInputException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxImagesTest {
  @TempDir Path dir;

  static byte[] idx(int magic, int count, int rows, int columns, int pixelBytes) {
    ByteBuffer b = ByteBuffer.allocate(16 + pixelBytes); // big-endian, as IDX
    b.putInt(magic).putInt(count).putInt(rows).putInt(columns);
    for (int i = 0; i < pixelBytes; i++) {
      b.put((byte) (i * 13));
    }
    return b.array();
  }

  static byte[] images(int count, int rows, int columns) {
    return idx(2051, count, rows, columns, count * rows * columns);
  }

  static byte[] gzip(byte[] bytes) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(bytes);
    }
    return out.toByteArray();
  }

  private Path write(String name, byte[] bytes) throws IOException {
    return Files.write(dir.resolve(name), bytes);
  }

  @Test
  void readsPlainImagesAsOneChannel() throws IOException {
    Dataset data = IdxImages.open(write("train-images-idx3-ubyte", images(5, 4, 3)));
    assertEquals(5, data.size());
    assertEquals(SampleShape.image(1, 4, 3), data.shape());
    float[] third = data.get(2);
    for (int p = 0; p < 12; p++) {
      assertEquals(((24 + p) * 13 & 0xFF) / 255f, third[p], 0f);
    }
  }

  @Test
  void gzipIsRecognisedByContentNotName() throws IOException {
    Dataset plain = IdxImages.open(write("a", images(5, 4, 3)));
    Dataset gzipped = IdxImages.open(write("b", gzip(images(5, 4, 3))));
    for (int i = 0; i < 5; i++) {
      assertEquals(Arrays.toString(plain.get(i)), Arrays.toString(gzipped.get(i)));
    }
  }

  @Test
  void findsTrainAndTestFilesInADirectory() throws IOException {
    write("train-images-idx3-ubyte.gz", gzip(images(6, 2, 2)));
    write("t10k-images-idx3-ubyte", images(3, 2, 2));
    assertEquals(6, IdxImages.train(dir).size());
    assertEquals(3, IdxImages.test(dir).size());
  }

  @Test
  void missingFileIsNamed() {
    Path missing = dir.resolve("train-images-idx3-ubyte");
    InvalidInputException e =
        assertThrows(InvalidInputException.class, () -> IdxImages.open(missing));
    assertTrue(e.getMessage().startsWith(missing + ": no such file"), e.getMessage());
    e = assertThrows(InvalidInputException.class, () -> IdxImages.train(dir));
    assertTrue(e.getMessage().startsWith(missing + ": no such file"), e.getMessage());
  }

  @Test
  void wrongMagicIsNamed() throws IOException {
    Path bad = write("x", idx(0x12345678, 1, 2, 2, 4));
    InvalidInputException e = assertThrows(InvalidInputException.class, () -> IdxImages.open(bad));
    assertTrue(e.getMessage().startsWith(bad + ": wrong magic number 305419896"), e.getMessage());
    assertTrue(e.getMessage().contains("expected 2051"), e.getMessage());
  }

  @Test
  void labelFileIsRecognised() throws IOException {
    ByteBuffer labels = ByteBuffer.allocate(8 + 3).putInt(2049).putInt(3);
    Path bad = write("train-labels-idx1-ubyte", labels.array());
    InvalidInputException e = assertThrows(InvalidInputException.class, () -> IdxImages.open(bad));
    assertEquals(
        bad + ": is an IDX label file (magic 2049), expected images (magic 2051)", e.getMessage());
  }

  @Test
  void truncatedFileIsNamed() throws IOException {
    Path bad = write("x", Arrays.copyOf(images(5, 4, 3), 16 + 50));
    InvalidInputException e = assertThrows(InvalidInputException.class, () -> IdxImages.open(bad));
    assertEquals(
        bad
            + ": truncated: the header announces 5 images of 4×3 (60 pixel bytes) but the file has"
            + " 50",
        e.getMessage());
  }

  @Test
  void truncatedHeaderIsNamed() throws IOException {
    Path tiny = write("x", new byte[] {0, 0});
    InvalidInputException e = assertThrows(InvalidInputException.class, () -> IdxImages.open(tiny));
    assertTrue(e.getMessage().startsWith(tiny + ": too short"), e.getMessage());
    Path half = write("y", Arrays.copyOf(images(1, 1, 1), 10));
    e = assertThrows(InvalidInputException.class, () -> IdxImages.open(half));
    assertTrue(e.getMessage().startsWith(half + ": truncated header"), e.getMessage());
  }

  @Test
  void truncatedGzipContentIsNamed() throws IOException {
    // A complete gzip stream whose content is short: the header's dimensions are the check.
    Path shortContent = write("x.gz", gzip(Arrays.copyOf(images(5, 4, 3), 16 + 59)));
    InvalidInputException e =
        assertThrows(InvalidInputException.class, () -> IdxImages.open(shortContent));
    assertTrue(e.getMessage().startsWith(shortContent + ": truncated"), e.getMessage());
    // A gzip stream cut in the middle (an interrupted download).
    byte[] whole = gzip(images(50, 20, 20));
    Path cut = write("y.gz", Arrays.copyOf(whole, whole.length / 2));
    e = assertThrows(InvalidInputException.class, () -> IdxImages.open(cut));
    assertTrue(e.getMessage().startsWith(cut + ": truncated"), e.getMessage());
  }

  @Test
  void corruptGzipIsNamed() throws IOException {
    byte[] bytes = gzip(images(50, 20, 20));
    for (int i = 20; i < bytes.length - 20; i++) {
      bytes[i] = (byte) 0xFF;
    }
    Path bad = write("x.gz", bytes);
    InvalidInputException e = assertThrows(InvalidInputException.class, () -> IdxImages.open(bad));
    assertTrue(e.getMessage().startsWith(bad + ": "), e.getMessage());
    assertTrue(e.getMessage().contains("gzip"), e.getMessage());
  }

  @Test
  void trailingDataIsNamed() throws IOException {
    Path plain = write("x", idx(2051, 2, 2, 2, 9));
    InvalidInputException e =
        assertThrows(InvalidInputException.class, () -> IdxImages.open(plain));
    assertTrue(e.getMessage().startsWith(plain + ": too long"), e.getMessage());
    Path gz = write("y", gzip(idx(2051, 2, 2, 2, 9)));
    e = assertThrows(InvalidInputException.class, () -> IdxImages.open(gz));
    assertTrue(e.getMessage().startsWith(gz + ": has data after the 2 images"), e.getMessage());
  }

  @Test
  void badDimensionsAreNamed() throws IOException {
    Path zero = write("x", idx(2051, 0, 28, 28, 0));
    InvalidInputException e = assertThrows(InvalidInputException.class, () -> IdxImages.open(zero));
    assertTrue(e.getMessage().startsWith(zero + ": bad dimensions 0 × 28 × 28"), e.getMessage());
    Path huge = write("y", idx(2051, 1_000_000, 1000, 1000, 0));
    e = assertThrows(InvalidInputException.class, () -> IdxImages.open(huge));
    assertTrue(e.getMessage().startsWith(huge + ": header claims"), e.getMessage());
  }
}
