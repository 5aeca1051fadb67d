package io.scoreflow.data;

import io.scoreflow.InvalidInputException;
import io.scoreflow.files.InputFiles;
import io.scoreflow.files.InvalidFileException;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * The PNG files of one folder (not its subfolders), in file-name order, as one dataset. All must
 * have the same width and height. If every file is grayscale the dataset has 1 channel; otherwise 3
 * (RGB), a grayscale file among colour ones being repeated in all three. Alpha is dropped: score
 * models here model colour, not transparency. 16-bit files are rounded to 8 bits, which is what
 * every image dataset of score_sde holds.
 *
 * <p>All files are decoded when the dataset is opened, so a bad file fails at once rather than
 * hours into training, and reads are then as fast as for CIFAR-10.
 */
public final class PngFolder {
  private PngFolder() {}

  /** The longest side decoded: four times score_sde's largest images (1024²). */
  static final int MAX_SIDE = 4096;

  private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

  /** The signature and the IHDR chunk up to its colour type: all the size checks need. */
  private static final int HEAD = 33;

  public static Dataset open(Path dir) {
    InputFiles.requireDirectory(dir, "a folder of PNG images");
    List<Path> files = list(dir);
    if (files.isEmpty()) {
      throw new InvalidInputException(dir + ": has no .png files");
    }
    Path first = files.get(0);
    // Every size is known from the headers before any file is decoded: a file claiming more
    // pixels than it or memory can hold is refused before the decoder allocates its raster.
    Header head = header(first);
    int width = head.width();
    int height = head.height();
    int plane = width * height;
    if ((long) files.size() * 3 * plane > InputFiles.MAX_ARRAY) {
      throw new InvalidInputException(
          dir
              + ": "
              + files.size()
              + " images of "
              + width
              + "×"
              + height
              + " do not fit in memory");
    }
    for (Path file : files.subList(1, files.size())) {
      Header other = header(file);
      if (other.width() != width || other.height() != height) {
        throw new InvalidFileException(
            file,
            "is "
                + other.width()
                + "×"
                + other.height()
                + " but "
                + first.getFileName()
                + " is "
                + width
                + "×"
                + height
                + " (all images of a folder must have one size)");
      }
    }
    BufferedImage firstImage = decode(first, head);
    // Decoded as RGB first; folded to one channel at the end if no file had colour.
    byte[] rgb = new byte[files.size() * 3 * plane];
    boolean allGray = true;
    for (int i = 0; i < files.size(); i++) {
      Path file = files.get(i);
      BufferedImage image = i == 0 ? firstImage : decode(file, head);
      allGray &= toRgb(image, rgb, i * 3 * plane);
    }
    String description = "PNG folder (" + dir + ", " + files.size() + " files)";
    if (!allGray) {
      return new UInt8Images(description, SampleShape.image(3, height, width), rgb);
    }
    byte[] gray = new byte[files.size() * plane];
    for (int i = 0; i < files.size(); i++) {
      System.arraycopy(rgb, i * 3 * plane, gray, i * plane, plane);
    }
    return new UInt8Images(description, SampleShape.image(1, height, width), gray);
  }

  /**
   * One PNG image: its size, whether it is grayscale, and its pixels as three channel-major planes
   * in [0, 1] (a grayscale image's three planes are equal).
   */
  public record Image(int width, int height, boolean gray, float[] rgb) {}

  /**
   * Reads one PNG with the same checks as a folder's files: the header is read and bounded before
   * the decoder allocates anything, and a bad file is one {@link InvalidFileException} naming it.
   */
  public static Image read(Path file) {
    InputFiles.requireRegularFile(file, "a PNG image");
    Header head = header(file);
    BufferedImage image = decode(file, head);
    byte[] rgb = new byte[3 * head.width() * head.height()];
    boolean gray = toRgb(image, rgb, 0);
    float[] values = new float[rgb.length];
    for (int i = 0; i < rgb.length; i++) {
      values[i] = (rgb[i] & 0xFF) / 255f;
    }
    return new Image(head.width(), head.height(), gray, values);
  }

  private static List<Path> list(Path dir) {
    try (Stream<Path> entries = Files.list(dir)) {
      return entries
          .filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png"))
          .filter(Files::isRegularFile)
          .sorted()
          .toList();
    } catch (IOException e) {
      throw InputFiles.unreadable(dir, e);
    }
  }

  /**
   * What a PNG's IHDR chunk says.
   *
   * @param channels samples per pixel of its colour type
   */
  record Header(int width, int height, int bitDepth, int channels) {
    /** The bytes the image data inflates to: per row a filter byte and the packed samples. */
    long rawBytes() {
      return height * (1 + ((long) width * channels * bitDepth + 7) / 8);
    }
  }

  /**
   * The IHDR of {@code file}, read from its first 33 bytes and checked: a PNG signature, a sane
   * size, and no more image data than the file can hold compressed.
   */
  static Header header(Path file) {
    byte[] head;
    try (InputStream in = Files.newInputStream(file)) {
      head = in.readNBytes(HEAD);
    } catch (IOException e) {
      throw InputFiles.unreadable(file, e);
    }
    if (head.length < SIGNATURE.length
        || !Arrays.equals(Arrays.copyOf(head, SIGNATURE.length), SIGNATURE)) {
      throw new InvalidFileException(
          file,
          "not a PNG image (it does not start with the PNG signature"
              + (head.length == 0 ? ": it is empty" : ", but with " + hex(head))
              + ")");
    }
    if (head.length < HEAD) {
      throw new InvalidFileException(
          file,
          "not a readable PNG (truncated: "
              + head.length
              + " bytes, the signature and the header chunk need "
              + HEAD
              + ")");
    }
    ByteBuffer b = ByteBuffer.wrap(head);
    if (b.getInt(8) != 13 || b.getInt(12) != 0x49484452) { // "IHDR"
      throw new InvalidFileException(
          file, "not a readable PNG (its first chunk is not the 13-byte IHDR header)");
    }
    int width = b.getInt(16);
    int height = b.getInt(20);
    if (width < 1 || height < 1) {
      throw new InvalidFileException(
          file,
          "not a readable PNG (its header says "
              + Integer.toUnsignedString(width)
              + "×"
              + Integer.toUnsignedString(height)
              + " pixels; each side is 1 to 2^31 - 1)");
    }
    if (width > MAX_SIDE || height > MAX_SIDE) {
      throw new InvalidFileException(
          file,
          "is "
              + width
              + "×"
              + height
              + ", more than the "
              + MAX_SIDE
              + "×"
              + MAX_SIDE
              + " this reader decodes");
    }
    int depth = head[24];
    int colour = head[25];
    int channels =
        switch (colour) {
          case 0, 3 -> 1; // gray, palette
          case 2 -> 3; // RGB
          case 4 -> 2; // gray and alpha
          case 6 -> 4; // RGBA
          default ->
              throw new InvalidFileException(
                  file, "not a readable PNG (colour type " + colour + " does not exist)");
        };
    if (depth != 1 && depth != 2 && depth != 4 && depth != 8 && depth != 16) {
      throw new InvalidFileException(
          file, "not a readable PNG (bit depth " + depth + " does not exist)");
    }
    Header header = new Header(width, height, depth, channels);
    long size = InputFiles.size(file);
    if (header.rawBytes() > size * InputFiles.MAX_DEFLATE_RATIO) {
      throw new InvalidFileException(
          file,
          "not a readable PNG (truncated: its header says "
              + width
              + "×"
              + height
              + " pixels, "
              + header.rawBytes()
              + " bytes of image data, more than its "
              + size
              + " bytes can hold compressed)");
    }
    return header;
  }

  private static String hex(byte[] head) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < Math.min(head.length, 4); i++) {
      out.append(i == 0 ? "" : " ").append(String.format("%02X", head[i] & 0xFF));
    }
    return out.toString();
  }

  private static BufferedImage decode(Path file, Header expected) {
    BufferedImage image;
    try {
      image = ImageIO.read(file.toFile());
    } catch (IOException | RuntimeException e) {
      // ImageIO reports corrupt data as IIOException, and sometimes as unchecked exceptions.
      String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      throw new InvalidFileException(
          file, "not a readable PNG (" + InputFiles.printable(reason, 200) + ")", e);
    }
    if (image == null) {
      throw new InvalidFileException(file, "not a PNG image (no image reader recognises it)");
    }
    if (image.getWidth() != expected.width() || image.getHeight() != expected.height()) {
      throw new InvalidFileException(
          file,
          "not a readable PNG (it decodes to "
              + image.getWidth()
              + "×"
              + image.getHeight()
              + ", not the "
              + expected.width()
              + "×"
              + expected.height()
              + " of its header)");
    }
    return image;
  }

  /**
   * Writes the image as three channel-major 8-bit planes at {@code rgb[at..]}; returns whether it
   * is grayscale.
   */
  private static boolean toRgb(BufferedImage image, byte[] rgb, int at) {
    int width = image.getWidth();
    int height = image.getHeight();
    int plane = width * height;
    boolean gray =
        !(image.getColorModel() instanceof IndexColorModel)
            && image.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_GRAY;
    if (gray) {
      // Read the stored samples: getRGB() would pass gray through a colour conversion that
      // changes the values (Java treats stored gray as linear, PNG's as sRGB-like).
      Raster raster = image.getRaster();
      int max = (1 << raster.getSampleModel().getSampleSize(0)) - 1;
      for (int y = 0; y < height; y++) {
        for (int x = 0; x < width; x++) {
          int v = raster.getSample(x, y, 0);
          byte b = (byte) (max == 255 ? v : Math.round(v * 255.0 / max));
          int p = y * width + x;
          rgb[at + p] = b;
          rgb[at + plane + p] = b;
          rgb[at + 2 * plane + p] = b;
        }
      }
      return true;
    }
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        int argb = image.getRGB(x, y);
        int p = y * width + x;
        rgb[at + p] = (byte) (argb >>> 16);
        rgb[at + plane + p] = (byte) (argb >>> 8);
        rgb[at + 2 * plane + p] = (byte) argb;
      }
    }
    return false;
  }
}
