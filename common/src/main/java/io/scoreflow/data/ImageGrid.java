package io.scoreflow.data;

import io.scoreflow.InvalidInputException;
import java.awt.image.BufferedImage;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import javax.imageio.ImageIO;

/**
 * A batch of images laid out in one picture, as score_sde saves its samples ({@code
 * torchvision.utils.make_grid} with a 2-pixel black padding around and between images, then {@code
 * save_image}): values clamped to [0, 1] and rounded to 8 bits, 1-channel batches as grayscale PNG,
 * 3-channel ones as RGB. The grid is near-square: ⌈√n⌉ columns and as many rows as needed. Samples
 * of a centred model (in [-1, 1]) must go through the inverse scaler first, as in score_sde: values
 * outside [0, 1] are clamped, not rescaled.
 */
public final class ImageGrid {
  /** Pixels of padding around and between images. */
  public static final int PADDING = 2;

  private ImageGrid() {}

  /** Columns of a near-square grid of {@code count} images: ⌈√count⌉. */
  public static int columnsFor(int count) {
    int columns = (int) Math.sqrt(count);
    while (columns * columns < count) {
      columns++;
    }
    return Math.max(columns, 1);
  }

  /** Writes the first {@code count} images of {@code batch} (N×C×H×W) as a PNG grid. */
  public static void write(float[] batch, SampleShape.Image shape, int count, Path png) {
    write(batch, shape, count, columnsFor(count), png);
  }

  /** Writes the first {@code count} images of {@code batch} as a PNG grid {@code columns} wide. */
  public static void write(
      float[] batch, SampleShape.Image shape, int count, int columns, Path png) {
    BufferedImage image = render(batch, shape, count, columns);
    Path tmp = png.resolveSibling(png.getFileName() + ".tmp");
    try {
      Path parent = png.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      if (!ImageIO.write(image, "png", tmp.toFile())) {
        throw new IllegalStateException("no PNG writer in this JDK");
      }
      // A viewer (or the evaluator) polling the file never sees half a PNG.
      Files.move(tmp, png, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new InvalidInputException(png + ": cannot write the image grid (" + e + ")", e);
    }
  }

  /** A batch as an in-memory grid image, {@link #columnsFor} columns wide. */
  public static BufferedImage render(float[] batch, SampleShape.Image shape, int count) {
    return render(batch, shape, count, columnsFor(count));
  }

  /** A batch as an in-memory grid image with the given number of columns. */
  public static BufferedImage render(
      float[] batch, SampleShape.Image shape, int count, int columns) {
    int channels = shape.channels();
    if (channels != 1 && channels != 3) {
      throw new IllegalArgumentException(
          "an image grid needs 1 or 3 channels, got " + channels + " (" + shape + ")");
    }
    if (count < 1 || columns < 1) {
      throw new IllegalArgumentException(
          "an image grid needs ≥ 1 image and column, got " + count + " and " + columns);
    }
    if ((long) count * shape.size() > batch.length) {
      throw new IllegalArgumentException(
          count
              + " images of "
              + shape
              + " need "
              + (long) count * shape.size()
              + " floats, got "
              + batch.length);
    }
    int h = shape.height();
    int w = shape.width();
    int rows = (count + columns - 1) / columns;
    int gridWidth = columns * (w + PADDING) + PADDING;
    int gridHeight = rows * (h + PADDING) + PADDING;
    BufferedImage grid =
        new BufferedImage(
            gridWidth,
            gridHeight,
            channels == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_3BYTE_BGR);
    // Write raster samples directly: no colour conversion between our values and the file's.
    WritableRaster raster = grid.getRaster();
    int plane = h * w;
    for (int n = 0; n < count; n++) {
      int x0 = PADDING + (n % columns) * (w + PADDING);
      int y0 = PADDING + (n / columns) * (h + PADDING);
      int base = n * shape.size();
      for (int c = 0; c < channels; c++) {
        for (int y = 0; y < h; y++) {
          for (int x = 0; x < w; x++) {
            raster.setSample(x0 + x, y0 + y, c, toByte(batch[base + c * plane + y * w + x]));
          }
        }
      }
    }
    return grid;
  }

  /**
   * As torchvision's {@code save_image}: clamp to [0, 1], scale to 255, round half up. NaN is 0.
   */
  static int toByte(float v) {
    if (!(v > 0f)) {
      return 0;
    }
    if (v >= 1f) {
      return 255;
    }
    return (int) (v * 255f + 0.5f);
  }
}
