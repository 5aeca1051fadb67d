package io.scoreflow.data;

import io.scoreflow.InvalidInputException;
import io.scoreflow.files.InputFiles;
import io.scoreflow.files.InvalidFileException;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Grayscale images in the IDX format of MNIST and Fashion-MNIST ({@code train-images-idx3-ubyte},
 * plain or gzipped): a big-endian header (magic 2051 = unsigned bytes in 3 dimensions, then count,
 * rows, columns) followed by the pixels, row-major. Gzip is recognised by its content, not by the
 * file name.
 */
public final class IdxImages {
  /** 0x00000803: two zero bytes, type 0x08 (unsigned byte), 3 dimensions. */
  static final int IMAGES_MAGIC = 2051;

  /** The magic of the label files next to the images, a common wrong pick. */
  static final int LABELS_MAGIC = 2049;

  static final int HEADER_SIZE = 16;

  public static final List<String> TRAIN_NAMES =
      List.of("train-images-idx3-ubyte", "train-images-idx3-ubyte.gz", "train-images.idx3-ubyte");
  public static final List<String> TEST_NAMES =
      List.of("t10k-images-idx3-ubyte", "t10k-images-idx3-ubyte.gz", "t10k-images.idx3-ubyte");

  private IdxImages() {}

  /** The training images of an MNIST-style directory ({@code train-images-idx3-ubyte[.gz]}). */
  public static Dataset train(Path dir) {
    return open(find(dir, TRAIN_NAMES));
  }

  /** The test images of an MNIST-style directory ({@code t10k-images-idx3-ubyte[.gz]}). */
  public static Dataset test(Path dir) {
    return open(find(dir, TEST_NAMES));
  }

  /** The images of one IDX file, gzipped or not, as a 1×rows×columns dataset. */
  public static Dataset open(Path file) {
    InputFiles.requireRegularFile(file, "an IDX image file such as train-images-idx3-ubyte");
    boolean gzipped = isGzip(file);
    try (InputStream raw = Files.newInputStream(file);
        InputStream in =
            new BufferedInputStream(gzipped ? new GZIPInputStream(raw, 1 << 16) : raw, 1 << 16)) {
      return read(file, in, gzipped);
    } catch (EOFException e) {
      // Only the gzip layer throws this; the plain reader checks lengths itself.
      throw new InvalidFileException(file, "truncated gzip data", e);
    } catch (ZipException e) {
      throw new InvalidFileException(file, "corrupt gzip data (" + e.getMessage() + ")", e);
    } catch (IOException e) {
      throw InputFiles.unreadable(file, e);
    }
  }

  private static Path find(Path dir, List<String> names) {
    InputFiles.requireDirectory(dir, "IDX files such as " + names.get(0));
    for (String name : names) {
      Path candidate = dir.resolve(name);
      if (Files.exists(candidate)) {
        return candidate;
      }
    }
    throw new InvalidInputException(
        dir.resolve(names.get(0))
            + ": no such file (nor "
            + String.join(", ", names.subList(1, names.size()))
            + ")");
  }

  private static boolean isGzip(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      return in.read() == 0x1F && in.read() == 0x8B;
    } catch (IOException e) {
      throw InputFiles.unreadable(file, e);
    }
  }

  private static Dataset read(Path file, InputStream in, boolean gzipped) throws IOException {
    byte[] header = in.readNBytes(HEADER_SIZE);
    if (header.length < 4) {
      throw new InvalidFileException(
          file, "too short for an IDX file (" + header.length + " bytes)");
    }
    DataInputStream fields = new DataInputStream(new ByteArrayInputStream(header));
    int magic = fields.readInt();
    if (magic == LABELS_MAGIC) {
      throw new InvalidFileException(
          file, "is an IDX label file (magic 2049), expected images (magic 2051)");
    }
    if (magic != IMAGES_MAGIC) {
      throw new InvalidFileException(
          file,
          "wrong magic number "
              + magic
              + String.format(" (0x%08X)", magic)
              + ", expected 2051 for IDX images (unsigned bytes, 3 dimensions)");
    }
    if (header.length < HEADER_SIZE) {
      throw new InvalidFileException(
          file, "truncated header (" + header.length + " of " + HEADER_SIZE + " bytes)");
    }
    int count = fields.readInt();
    int rows = fields.readInt();
    int columns = fields.readInt();
    if (count < 1 || rows < 1 || columns < 1) {
      throw new InvalidFileException(
          file, "bad dimensions " + count + " × " + rows + " × " + columns + " in the header");
    }
    // Three ints can overflow a long (2^31 cubed): the product is exact or refused.
    OptionalLong product = InputFiles.product(count, rows, columns);
    String dims = count + " images of " + rows + "×" + columns;
    if (product.isEmpty() || product.getAsLong() > InputFiles.MAX_ARRAY) {
      throw new InvalidFileException(
          file,
          "header claims "
              + (product.isEmpty() ? "more than 2^63" : product.getAsLong())
              + " pixel bytes ("
              + dims
              + "), more than this reader can hold ("
              + InputFiles.MAX_ARRAY
              + ")");
    }
    long expected = product.getAsLong();
    // Checked before reading so that a huge wrong header does not allocate for nothing: a plain
    // file must have exactly the bytes; a gzip file cannot hold more than deflate expands to.
    long size = InputFiles.size(file);
    if (!gzipped && size - HEADER_SIZE != expected) {
      throw new InvalidFileException(file, lengthMismatch(dims, expected, size - HEADER_SIZE));
    }
    if (gzipped && HEADER_SIZE + expected > size * InputFiles.MAX_DEFLATE_RATIO) {
      throw new InvalidFileException(
          file,
          "truncated: the header announces "
              + dims
              + " ("
              + expected
              + " pixel bytes), more than a gzip file of "
              + size
              + " bytes can hold (deflate expands at most "
              + InputFiles.MAX_DEFLATE_RATIO
              + "×)");
    }
    // Grows with the bytes that arrive, so a gzip stream shorter than its header costs only
    // what it holds.
    byte[] pixels = InputFiles.readUpTo(in, (int) expected);
    if (pixels.length != expected) {
      throw new InvalidFileException(file, lengthMismatch(dims, expected, pixels.length));
    }
    if (in.read() != -1) {
      throw new InvalidFileException(
          file, "has data after the " + dims + " that the header announces");
    }
    String description = "IDX images (" + file + ")";
    return new UInt8Images(description, SampleShape.image(1, rows, columns), pixels);
  }

  private static String lengthMismatch(String dims, long expected, long actual) {
    String what = actual < expected ? "truncated" : "too long";
    return what
        + ": the header announces "
        + dims
        + " ("
        + expected
        + " pixel bytes) but the file has "
        + actual;
  }
}
