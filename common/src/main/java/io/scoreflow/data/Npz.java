package io.scoreflow.data;

import io.scoreflow.InvalidInputException;
import io.scoreflow.files.InputFiles;
import io.scoreflow.files.InvalidFileException;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * numpy {@code .npz} files of float32 arrays: a zip with one {@code name.npy} entry per array, as
 * {@code numpy.savez} writes them (entries stored uncompressed, {@code .npy} format 1.0,
 * little-endian {@code '<f4'}, C order, header padded to 64 bytes). Reading also accepts what
 * {@code numpy.savez_compressed} writes and {@code .npy} versions 2.0 and 3.0, but only float32 in
 * C order: anything else is one clear error rather than a silent conversion.
 */
public final class Npz {
  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final int ALIGN = 64;
  private static final int CHUNK_FLOATS = 16 * 1024;

  /** numpy's own reader refuses longer headers (max_header_size), as a guard against the same. */
  static final int MAX_HEADER = 10_000;

  /** Arrays per file: far more than any sample or statistics file has. */
  static final int MAX_ENTRIES = 1 << 16;

  private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

  private Npz() {}

  /**
   * A float32 array in C order.
   *
   * @param shape the dimensions; {@code []} for a scalar
   * @param data the values, {@code product(shape)} of them; kept, not copied
   */
  public record FloatArray(int[] shape, float[] data) {
    public FloatArray {
      shape = shape.clone();
      long n = 1;
      for (int d : shape) {
        if (d < 0) {
          throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
        }
        n *= d;
      }
      if (n != data.length) {
        throw new IllegalArgumentException(
            "shape " + Arrays.toString(shape) + " holds " + n + " values, got " + data.length);
      }
    }

    public static FloatArray of(float[] data, int... shape) {
      return new FloatArray(shape, data);
    }

    @Override
    public int[] shape() {
      return shape.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof FloatArray a
          && Arrays.equals(shape, a.shape)
          && Arrays.equals(data, a.data);
    }

    @Override
    public int hashCode() {
      return 31 * Arrays.hashCode(shape) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
      return "float32" + Arrays.toString(shape);
    }
  }

  /**
   * Writes the arrays, in map order, to {@code file} (replaced atomically if it exists). Names are
   * the keys {@code numpy.load(file)[name]} will take.
   */
  public static void write(Path file, Map<String, FloatArray> arrays) {
    for (String name : arrays.keySet()) {
      if (name.isEmpty() || name.contains("/") || name.contains("\\")) {
        throw new IllegalArgumentException("bad npz array name '" + name + "'");
      }
    }
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try {
      try (ZipOutputStream zip =
          new ZipOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16))) {
        for (Map.Entry<String, FloatArray> e : arrays.entrySet()) {
          writeEntry(zip, e.getKey() + ".npy", e.getValue());
        }
      }
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException ignored) {
        // The write already failed; that error is the one to report.
      }
      throw new InvalidInputException(file + ": cannot write npz (" + e + ")", e);
    }
  }

  /**
   * The arrays of {@code file}, in entry order, keyed by entry name without {@code .npy}. Every
   * size the zip directory and the {@code .npy} headers claim is checked against the file before an
   * array is allocated, and arrays grow only with the values that actually come.
   */
  public static Map<String, FloatArray> read(Path file) {
    InputFiles.requireRegularFile(file, "a numpy .npz file");
    long fileSize = InputFiles.size(file);
    Map<String, FloatArray> arrays = new LinkedHashMap<>();
    try (ZipFile zip = new ZipFile(file.toFile())) {
      if (zip.size() > MAX_ENTRIES) {
        throw new InvalidFileException(
            file, "has " + zip.size() + " entries, more than the " + MAX_ENTRIES + " read here");
      }
      Enumeration<? extends ZipEntry> entries = zip.entries();
      while (entries.hasMoreElements()) {
        ZipEntry entry = entries.nextElement();
        String name = entry.getName();
        if (!name.endsWith(".npy")) {
          throw new InvalidFileException(
              file,
              "entry " + InputFiles.quote(name) + " is not a .npy array (is this an npz file?)");
        }
        checkSizes(file, entry, fileSize);
        try (InputStream in = zip.getInputStream(entry)) {
          arrays.put(
              name.substring(0, name.length() - 4), readNpy(file, name, in, entry.getSize()));
        }
      }
    } catch (ZipException | EOFException e) {
      throw new InvalidFileException(
          file, "not a valid npz (zip) file (" + InputFiles.printable(e.getMessage(), 200) + ")");
    } catch (IllegalArgumentException e) {
      // ZipFile's way of saying that an entry name is not valid in the zip's encoding.
      throw new InvalidFileException(
          file, "not a valid npz (zip) file (an entry name is not valid UTF-8)");
    } catch (IOException e) {
      throw InputFiles.unreadable(file, e);
    }
    return arrays;
  }

  /**
   * The sizes the zip directory gives an entry, against what the file can hold: compressed bytes
   * inside the file, a stored entry as long as its bytes, a deflated one no longer than deflate can
   * expand them.
   */
  private static void checkSizes(Path file, ZipEntry entry, long fileSize) {
    String name = entry.getName();
    long size = entry.getSize();
    long compressed = entry.getCompressedSize();
    if (compressed > fileSize) {
      throw new InvalidFileException(
          file,
          name,
          "the zip directory claims "
              + compressed
              + " compressed bytes, but the file has "
              + fileSize,
          null);
    }
    if (size < 0 || compressed < 0) {
      return; // not given; the reads below are bounded anyway
    }
    boolean stored = entry.getMethod() == ZipEntry.STORED;
    if (stored ? size != compressed : size > compressed * InputFiles.MAX_DEFLATE_RATIO + 64) {
      throw new InvalidFileException(
          file,
          name,
          "the zip directory claims "
              + size
              + " bytes from "
              + compressed
              + (stored
                  ? " stored bytes"
                  : " compressed bytes, more than deflate can expand them to"),
          null);
    }
  }

  private static void writeEntry(ZipOutputStream zip, String name, FloatArray array)
      throws IOException {
    byte[] header = header(array.shape);
    float[] data = array.data;
    // Stored entries (as numpy.savez) need their CRC and size before the data: one pass to
    // checksum, one to write, both through the same little-endian chunk buffer.
    CRC32 crc = new CRC32();
    crc.update(header);
    ByteBuffer chunk = ByteBuffer.allocate(CHUNK_FLOATS * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int from = 0; from < data.length; from += CHUNK_FLOATS) {
      fill(chunk, data, from);
      crc.update(chunk.array(), 0, chunk.limit());
    }
    ZipEntry entry = new ZipEntry(name);
    entry.setMethod(ZipEntry.STORED);
    entry.setSize(header.length + 4L * data.length);
    entry.setCompressedSize(entry.getSize());
    entry.setCrc(crc.getValue());
    zip.putNextEntry(entry);
    zip.write(header);
    for (int from = 0; from < data.length; from += CHUNK_FLOATS) {
      fill(chunk, data, from);
      zip.write(chunk.array(), 0, chunk.limit());
    }
    zip.closeEntry();
  }

  private static void fill(ByteBuffer chunk, float[] data, int from) {
    chunk.clear();
    chunk.asFloatBuffer().put(data, from, Math.min(CHUNK_FLOATS, data.length - from));
    chunk.limit(4 * Math.min(CHUNK_FLOATS, data.length - from));
  }

  /** Magic, version 1.0, header length, then the dict padded with spaces to a multiple of 64. */
  static byte[] header(int[] shape) {
    StringBuilder dims = new StringBuilder();
    for (int d : shape) {
      dims.append(d).append(", ");
    }
    String tuple = shape.length == 1 ? "(" + shape[0] + ",)" : "(" + strip(dims.toString()) + ")";
    String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + tuple + ", }";
    int unpadded = MAGIC.length + 2 + 2 + dict.length() + 1;
    int padding = (ALIGN - unpadded % ALIGN) % ALIGN;
    String text = dict + " ".repeat(padding) + "\n";
    if (text.length() > 0xFFFF) {
      throw new IllegalArgumentException("npy header too long for format 1.0: " + text.length());
    }
    ByteBuffer out =
        ByteBuffer.allocate(MAGIC.length + 4 + text.length()).order(ByteOrder.LITTLE_ENDIAN);
    out.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) text.length());
    out.put(text.getBytes(StandardCharsets.US_ASCII));
    return out.array();
  }

  private static String strip(String dims) {
    return dims.isEmpty() ? dims : dims.substring(0, dims.length() - 2);
  }

  /** One {@code .npy} entry of {@code size} bytes (-1 if the zip does not say). */
  private static FloatArray readNpy(Path file, String entry, InputStream in, long size)
      throws IOException {
    byte[] prefix = in.readNBytes(MAGIC.length + 2);
    if (prefix.length < MAGIC.length + 2
        || !Arrays.equals(Arrays.copyOf(prefix, MAGIC.length), MAGIC)) {
      throw new InvalidFileException(file, entry, "not a .npy array (bad magic)", null);
    }
    int major = prefix[MAGIC.length];
    int fieldSize;
    if (major == 1) {
      fieldSize = 2;
    } else if (major == 2 || major == 3) {
      fieldSize = 4;
    } else {
      throw new InvalidFileException(
          file,
          entry,
          ".npy format version " + (major & 0xFF) + " is not supported (1, 2 or 3)",
          null);
    }
    long headerLength = littleEndian(file, entry, in.readNBytes(fieldSize), fieldSize);
    long headerEnd = prefix.length + fieldSize + headerLength;
    if (headerLength > MAX_HEADER || (size >= 0 && headerEnd > size)) {
      throw new InvalidFileException(
          file,
          entry,
          ".npy header length "
              + headerLength
              + (headerLength > MAX_HEADER
                  ? " is more than the limit of " + MAX_HEADER + " bytes"
                  : " is more than the entry's " + size + " bytes"),
          null);
    }
    byte[] headerBytes = in.readNBytes((int) headerLength);
    if (headerBytes.length != headerLength) {
      throw new InvalidFileException(file, entry, "truncated .npy header", null);
    }
    String header =
        new String(headerBytes, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    String descr = field(file, entry, DESCR, header, "descr");
    if (!descr.equals("<f4")) {
      throw new InvalidFileException(
          file,
          entry,
          "dtype " + InputFiles.quote(descr) + " is not supported, expected float32 '<f4'",
          null);
    }
    int[] shape = parseShape(file, entry, field(file, entry, SHAPE, header, "shape"));
    if (field(file, entry, FORTRAN, header, "fortran_order").equals("True") && shape.length > 1) {
      throw new InvalidFileException(
          file, entry, "Fortran-order arrays are not supported, save with C order", null);
    }
    long[] dims = new long[shape.length + 1];
    for (int i = 0; i < shape.length; i++) {
      dims[i] = shape[i];
    }
    dims[shape.length] = Float.BYTES;
    OptionalLong bytes = InputFiles.product(dims);
    String declared = "shape " + Arrays.toString(shape) + " of float32";
    if (bytes.isEmpty() || bytes.getAsLong() / Float.BYTES > InputFiles.MAX_ARRAY) {
      throw new InvalidFileException(
          file, entry, declared + " holds more values than one array can", null);
    }
    if (size >= 0 && headerEnd + bytes.getAsLong() != size) {
      long data = size - headerEnd;
      throw new InvalidFileException(
          file,
          entry,
          (data < bytes.getAsLong() ? "truncated data: " : "data past the array: ")
              + declared
              + " needs "
              + bytes.getAsLong()
              + " bytes, the entry holds "
              + data,
          null);
    }
    int count = (int) (bytes.getAsLong() / Float.BYTES);
    float[] data = InputFiles.readFloatsUpTo(in, count);
    if (data.length < count) {
      throw new InvalidFileException(
          file,
          entry,
          "truncated data: "
              + declared
              + " needs "
              + count
              + " values, the entry holds "
              + data.length,
          null);
    }
    if (in.read() != -1) {
      throw new InvalidFileException(file, entry, "data past the array: " + declared, null);
    }
    return new FloatArray(shape, data);
  }

  /** The header length field: unsigned, 16 bits in version 1, 32 in versions 2 and 3. */
  private static long littleEndian(Path file, String entry, byte[] bytes, int width) {
    if (bytes.length != width) {
      throw new InvalidFileException(file, entry, "truncated .npy header length", null);
    }
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    return width == 2 ? Short.toUnsignedInt(b.getShort()) : Integer.toUnsignedLong(b.getInt());
  }

  private static String field(
      Path file, String entry, Pattern pattern, String header, String name) {
    Matcher m = pattern.matcher(header);
    if (!m.find()) {
      throw new InvalidFileException(
          file,
          entry,
          ".npy header has no '" + name + "': " + InputFiles.printable(header.strip(), 200),
          null);
    }
    return m.group(1);
  }

  private static int[] parseShape(Path file, String entry, String tuple) {
    String[] parts = tuple.split(",");
    int[] dims = new int[parts.length];
    int n = 0;
    for (String part : parts) {
      String p = part.trim();
      if (p.endsWith("L")) {
        p = p.substring(0, p.length() - 1); // Python 2 longs
      }
      if (p.isEmpty()) {
        continue;
      }
      try {
        dims[n++] = Integer.parseInt(p);
      } catch (NumberFormatException e) {
        dims[n - 1] = -1;
      }
      if (dims[n - 1] < 0) {
        throw new InvalidFileException(
            file,
            entry,
            "bad shape ("
                + InputFiles.printable(tuple, 200)
                + "): dimensions are integers from 0 to "
                + Integer.MAX_VALUE,
            null);
      }
    }
    return Arrays.copyOf(dims, n);
  }
}
