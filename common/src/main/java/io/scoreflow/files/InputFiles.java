package io.scoreflow.files;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.OptionalLong;

/**
 * What the readers of every format share: the checks that a path is there and readable, exact
 * arithmetic on the sizes a header claims, and reads whose memory grows with the bytes that came
 * rather than with the size a header announced (a 100-byte gzip file may claim gigabytes). Each
 * failure is one {@link InvalidFileException} naming the file.
 */
public final class InputFiles {
  /** The longest Java array the VM reliably allocates. */
  public static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

  /**
   * The most one byte of deflate data (zip, gzip, PNG) can expand to: a 258-byte match coded in two
   * bits. A stream claiming more output per input byte cannot hold it.
   */
  public static final long MAX_DEFLATE_RATIO = 1032;

  /** Where growing reads start; they double from here, never past what was asked. */
  private static final int FIRST_CHUNK = 1 << 16;

  private InputFiles() {}

  public static void requireDirectory(Path dir, String expected) {
    if (!Files.exists(dir)) {
      throw new InvalidFileException(dir, "no such directory (expected " + expected + ")");
    }
    if (!Files.isDirectory(dir)) {
      throw new InvalidFileException(dir, "not a directory (expected " + expected + ")");
    }
  }

  public static void requireRegularFile(Path file, String expected) {
    if (!Files.exists(file)) {
      throw new InvalidFileException(file, "no such file (expected " + expected + ")");
    }
    if (!Files.isRegularFile(file)) {
      throw new InvalidFileException(file, "not a regular file (expected " + expected + ")");
    }
    if (!Files.isReadable(file)) {
      throw new InvalidFileException(file, "not readable (permission denied)");
    }
  }

  public static long size(Path file) {
    try {
      return Files.size(file);
    } catch (IOException e) {
      throw unreadable(file, e);
    }
  }

  /** The error for an I/O failure on {@code file}, with the JDK's reason in words. */
  public static InvalidFileException unreadable(Path file, IOException e) {
    if (e instanceof NoSuchFileException) {
      return new InvalidFileException(file, "no such file", e);
    }
    String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return new InvalidFileException(file, "cannot be read (" + reason + ")", e);
  }

  /** The exact product of non-negative factors, empty if it does not fit in a long. */
  public static OptionalLong product(long... factors) {
    for (long f : factors) {
      if (f < 0) {
        throw new IllegalArgumentException("negative factor " + f);
      }
      if (f == 0) {
        return OptionalLong.of(0); // however large the others: [2^40, 2^40, 0] holds nothing
      }
    }
    long p = 1;
    for (long f : factors) {
      try {
        p = Math.multiplyExact(p, f);
      } catch (ArithmeticException e) {
        return OptionalLong.empty();
      }
    }
    return OptionalLong.of(p);
  }

  /**
   * Up to {@code n} bytes of {@code in}, fewer only if it ends first. The buffer grows as bytes
   * arrive, so a claimed length that the stream does not back costs only what did come.
   */
  public static byte[] readUpTo(InputStream in, int n) throws IOException {
    byte[] buffer = new byte[Math.min(n, FIRST_CHUNK)];
    int have = 0;
    while (have < n) {
      if (have == buffer.length) {
        buffer = Arrays.copyOf(buffer, (int) Math.min(n, 2L * buffer.length));
      }
      int read = in.read(buffer, have, buffer.length - have);
      if (read < 0) {
        break;
      }
      have += read;
    }
    return have == buffer.length ? buffer : Arrays.copyOf(buffer, have);
  }

  /**
   * Up to {@code n} little-endian float32 values of {@code in}, fewer only if it ends first (a
   * trailing partial value is dropped). Memory grows with the values that came, as {@link
   * #readUpTo}.
   */
  public static float[] readFloatsUpTo(InputStream in, int n) throws IOException {
    float[] values = new float[Math.min(n, FIRST_CHUNK)];
    byte[] chunk = new byte[4 * Math.min(n, FIRST_CHUNK / 4)];
    ByteBuffer view = ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN);
    int have = 0;
    while (have < n) {
      int want = Math.min(chunk.length / 4, n - have);
      // Filled by hand: a stream's readNBytes may return less than it could (ByteArrayInputStream
      // returns what one read gives).
      int bytes = 0;
      for (int r; bytes < 4 * want && (r = in.read(chunk, bytes, 4 * want - bytes)) >= 0; ) {
        bytes += r;
      }
      if (have + bytes / 4 > values.length) {
        values =
            Arrays.copyOf(values, (int) Math.min(n, Math.max(2L * values.length, have + want)));
      }
      view.clear().limit(bytes - bytes % 4);
      view.asFloatBuffer().get(values, have, bytes / 4);
      have += bytes / 4;
      if (bytes < 4 * want) {
        break;
      }
    }
    return have == values.length ? values : Arrays.copyOf(values, have);
  }

  /**
   * A name read from a file, fit for an error line: quoted, control characters escaped, cut after
   * 80 characters (a hostile header can hold a name of megabytes).
   */
  public static String quote(String name) {
    return "'" + printable(name, 80) + "'";
  }

  /** {@code text} with control characters escaped, cut after {@code max} characters. */
  public static String printable(String text, int max) {
    if (text == null) {
      return "";
    }
    StringBuilder out = new StringBuilder();
    int limit = Math.min(text.length(), max);
    for (int i = 0; i < limit; i++) {
      char c = text.charAt(i);
      if (Character.isISOControl(c)) {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    if (text.length() > limit) {
      out.append("…(").append(text.length()).append(" characters)");
    }
    return out.toString();
  }
}
