package io.scoreflow.data;

import io.scoreflow.InvalidInputException;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes an {@code .npz} array by array and each array batch by batch, so that 50,000 generated
 * images (600 MB of floats) go to disk without being held in memory. The shape is declared up
 * front, as the {@code .npy} header comes first; closing an array checks that exactly that many
 * values came. The file appears (atomically) only when the writer is closed after a complete write;
 * a writer closed after a failure or an incomplete array leaves nothing behind.
 *
 * <p>Entries are deflated at level 0 (no compression) rather than stored as {@link Npz#write} does:
 * a stored entry needs its checksum before its data, which a stream cannot give. numpy reads both
 * alike.
 */
public final class NpzWriter implements AutoCloseable {
  private static final int CHUNK_FLOATS = 16 * 1024;

  private final Path file;
  private final Path tmp;
  private final ZipOutputStream zip;
  private final ByteBuffer chunk =
      ByteBuffer.allocate(CHUNK_FLOATS * 4).order(ByteOrder.LITTLE_ENDIAN);
  private final Set<String> names = new HashSet<>();
  private String array;
  private long expected;
  private long written;
  private boolean failed;
  private boolean closed;

  private NpzWriter(Path file) throws IOException {
    this.file = file;
    this.tmp = file.resolveSibling(file.getFileName() + ".tmp");
    this.zip = new ZipOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16));
    zip.setMethod(ZipOutputStream.DEFLATED);
    zip.setLevel(Deflater.NO_COMPRESSION);
  }

  /** A writer whose output becomes {@code file} on {@link #close()}. */
  public static NpzWriter open(Path file) {
    try {
      return new NpzWriter(file);
    } catch (IOException e) {
      throw new InvalidInputException(file + ": cannot write npz (" + e + ")", e);
    }
  }

  /** Starts array {@code name} of the given shape (ending the previous array). */
  public NpzWriter begin(String name, int... shape) {
    requireOpen();
    if (name.isEmpty() || name.contains("/") || name.contains("\\") || !names.add(name)) {
      throw new IllegalArgumentException("bad or repeated npz array name '" + name + "'");
    }
    long n = 1;
    for (int d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
      }
      n *= d;
    }
    finishArray();
    io(
        () -> {
          zip.putNextEntry(new ZipEntry(name + ".npy"));
          zip.write(Npz.header(shape));
        });
    array = name;
    expected = n;
    written = 0;
    return this;
  }

  /** Appends {@code length} values of {@code data} from {@code offset} to the current array. */
  public NpzWriter append(float[] data, int offset, int length) {
    requireOpen();
    if (array == null) {
      throw new IllegalStateException("begin an array before appending to it");
    }
    if (written + length > expected) {
      failed = true;
      throw new IllegalStateException(
          "array '" + array + "' holds " + expected + " values, " + (written + length) + " came");
    }
    for (int from = offset; from < offset + length; from += CHUNK_FLOATS) {
      int n = Math.min(CHUNK_FLOATS, offset + length - from);
      chunk.clear();
      chunk.asFloatBuffer().put(data, from, n);
      io(() -> zip.write(chunk.array(), 0, 4 * n));
    }
    written += length;
    return this;
  }

  /** Appends all of {@code data}. */
  public NpzWriter append(float[] data) {
    return append(data, 0, data.length);
  }

  /**
   * Ends the last array and publishes the file. After a failure, or if the last array is short, the
   * partial file is deleted instead (and the shortfall thrown).
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    RuntimeException problem = null;
    if (!failed) {
      try {
        finishArray();
      } catch (RuntimeException e) {
        problem = e;
      }
    }
    try {
      zip.close();
    } catch (IOException e) {
      failed = true;
      if (problem == null) {
        problem = cannotWrite(e);
      }
    }
    try {
      if (failed) {
        Files.deleteIfExists(tmp);
      } else {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      }
    } catch (IOException e) {
      if (problem == null) {
        problem = cannotWrite(e);
      }
    }
    if (problem != null) {
      throw problem;
    }
  }

  private void finishArray() {
    if (array == null) {
      return;
    }
    if (written != expected) {
      failed = true;
      throw new IllegalStateException(
          "array '" + array + "' holds " + expected + " values, only " + written + " came");
    }
    io(zip::closeEntry);
    array = null;
  }

  private void requireOpen() {
    if (closed || failed) {
      throw new IllegalStateException(closed ? "npz writer is closed" : "npz writer failed");
    }
  }

  private InvalidInputException cannotWrite(IOException e) {
    return new InvalidInputException(file + ": cannot write npz (" + e + ")", e);
  }

  private interface IoAction {
    void run() throws IOException;
  }

  private void io(IoAction action) {
    try {
      action.run();
    } catch (IOException e) {
      failed = true;
      throw cannotWrite(e);
    }
  }
}
