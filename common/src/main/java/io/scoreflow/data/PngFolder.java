package io.scoreflow.data;

import io.scoreflow.InvalidInputException;
import io.scoreflow.files.InputFiles;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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

  public static Dataset open(Path dir) {
    InputFiles.requireDirectory(dir, "a folder of PNG images");
    List<Path> files = list(dir);
    if (files.isEmpty()) {
      throw new InvalidInputException(dir + ": has no .png files");
    }
    Path first = files.get(0);
    BufferedImage firstImage = decode(first);
    int width = firstImage.getWidth();
    int height = firstImage.getHeight();
    int plane = width * height;
    if ((long) files.size() * 3 * plane > Integer.MAX_VALUE - 8) {
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
    // Decoded as RGB first; folded to one channel at the end if no file had colour.
    byte[] rgb = new byte[files.size() * 3 * plane];
    boolean allGray = true;
    for (int i = 0; i < files.size(); i++) {
      Path file = files.get(i);
      BufferedImage image = i == 0 ? firstImage : decode(file);
      if (image.getWidth() != width || image.getHeight() != height) {
        throw new InvalidInputException(
            file
                + ": is "
                + image.getWidth()
                + "×"
                + image.getHeight()
                + " but "
                + first.getFileName()
                + " is "
                + width
                + "×"
                + height
                + " (all images of a folder must have one size)");
      }
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

  private static BufferedImage decode(Path file) {
    BufferedImage image;
    try {
      image = ImageIO.read(file.toFile());
    } catch (IOException | RuntimeException e) {
      // ImageIO reports corrupt data as IIOException, and sometimes as unchecked exceptions.
      String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      throw new InvalidInputException(file + ": not a readable PNG (" + reason + ")", e);
    }
    if (image == null) {
      throw new InvalidInputException(file + ": not a PNG image (no image reader recognises it)");
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
