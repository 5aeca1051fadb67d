package io.scoreflow.files;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The one reader of safetensors files: an 8-byte little-endian header length, a UTF-8 JSON header
 * ({@code name -> {dtype, shape, data_offsets}} and an optional {@code __metadata__} string map),
 * then the data section. Everything the header claims is checked against the file's real size
 * before anything is allocated for it: the header length against the bytes after it and {@link
 * #MAX_HEADER}; every tensor's dtype, its shape's product times the dtype size (exactly, without
 * overflow) against its offsets; the offsets against the data section, which they must cover
 * without gap or overlap, as the format requires. Only then are tensors read, one buffer each, so
 * memory follows the bytes actually in the file.
 *
 * <p>Written here rather than read through DJL's {@code NDList.decode}, which trusts the header: a
 * length of {@code 7FFF…FF} threw {@code ArithmeticException}, and a 109-byte file claiming a 2 GiB
 * header took 29 s and 4.4 GB of memory before noticing the file was short (measured on the 2-core
 * development machine; here it is refused in microseconds, allocating nothing).
 */
public final class Safetensors {
  /** The longest header accepted, as the reference implementation's limit. */
  public static final long MAX_HEADER = 100L << 20;

  /** The most dimensions one tensor may have (PyTorch's own limit). */
  public static final int MAX_RANK = 64;

  private static final String METADATA = "__metadata__";
  private static final int CHUNK = 1 << 16;

  private static final JsonFactory JSON =
      JsonFactory.builder()
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .streamReadConstraints(
              StreamReadConstraints.builder().maxNestingDepth(4).maxNumberLength(24).build())
          .build();

  /** The element types safetensors names and DJL holds, with their sizes in bytes. */
  private static final Map<String, DataType> DTYPES =
      Map.of(
          "F64", DataType.FLOAT64,
          "F32", DataType.FLOAT32,
          "F16", DataType.FLOAT16,
          "BF16", DataType.BFLOAT16,
          "I64", DataType.INT64,
          "I32", DataType.INT32,
          "I8", DataType.INT8,
          "U8", DataType.UINT8,
          "BOOL", DataType.BOOLEAN);

  private Safetensors() {}

  /**
   * One tensor as the header describes it.
   *
   * @param begin its first byte in the data section
   * @param end one past its last byte
   */
  record Entry(String name, DataType dtype, long[] shape, long begin, long end) {
    public Entry {
      shape = shape.clone();
    }

    @Override
    public long[] shape() {
      return shape.clone();
    }

    public long bytes() {
      return end - begin;
    }
  }

  /**
   * A checked header.
   *
   * @param entries the tensors, in header order
   * @param metadata the {@code __metadata__} map, empty if the file has none
   * @param dataStart where the data section starts in the file (8 + the header length)
   */
  record Header(List<Entry> entries, Map<String, String> metadata, long dataStart) {
    public Header {
      entries = List.copyOf(entries);
      metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }
  }

  /**
   * Every tensor of {@code file}, in header order, named, in {@code manager}. Tensors keep their
   * type, except bfloat16, which comes back as the float32 of the same value.
   *
   * @throws InvalidFileException if the file is missing, unreadable or not valid safetensors; the
   *     message names the file and what is wrong
   */
  public static NDList read(NDManager manager, Path file) {
    InputFiles.requireRegularFile(file, "a safetensors file");
    long size = InputFiles.size(file);
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file), CHUNK)) {
      return read(manager, in, size, file);
    } catch (IOException e) {
      throw InputFiles.unreadable(file, e);
    }
  }

  /**
   * Every tensor of the {@code size} bytes of safetensors in {@code in}, which is read exactly that
   * far (a caller hashing the stream sees every byte once). {@code file} only names the source in
   * errors.
   */
  public static NDList read(NDManager manager, InputStream in, long size, Path file)
      throws IOException {
    Header header = header(in, size, file);
    List<Entry> byOffset = new ArrayList<>(header.entries());
    byOffset.sort(Comparator.comparingLong(Entry::begin));
    Map<String, NDArray> arrays = new LinkedHashMap<>();
    try {
      byte[] chunk = new byte[CHUNK];
      for (Entry entry : byOffset) {
        arrays.put(entry.name(), tensor(manager, entry, in, chunk, header.dataStart(), file));
      }
    } catch (IOException | RuntimeException e) {
      arrays.values().forEach(NDArray::close);
      throw e;
    }
    NDList list = new NDList(header.entries().size());
    for (Entry entry : header.entries()) {
      list.add(arrays.get(entry.name()));
    }
    return list;
  }

  /**
   * Reads and checks the length and header of the {@code size} bytes of safetensors in {@code in},
   * leaving the stream at the start of the data section.
   */
  static Header header(InputStream in, long size, Path file) throws IOException {
    if (size < 8) {
      throw malformed(
          file, "the file has " + size + " bytes, fewer than the 8 of the header length alone");
    }
    byte[] prefix = in.readNBytes(8);
    if (prefix.length < 8) {
      throw malformed(file, "the file ended after " + prefix.length + " bytes (it is shorter now)");
    }
    long length = ByteBuffer.wrap(prefix).order(ByteOrder.LITTLE_ENDIAN).getLong();
    // An unsigned 64-bit field: a negative long is a length past 2^63.
    if (length < 0 || length > size - 8) {
      throw malformed(
          file,
          "header length "
              + Long.toUnsignedString(length)
              + " is more than the "
              + (size - 8)
              + " bytes after it (the file has "
              + size
              + " bytes)");
    }
    if (length > MAX_HEADER) {
      throw malformed(
          file, "header length " + length + " is more than the limit of " + MAX_HEADER + " bytes");
    }
    if (length < 2) {
      throw malformed(file, "header length " + length + " is too short for a JSON object");
    }
    byte[] json = InputFiles.readUpTo(in, (int) length);
    if (json.length < length) {
      throw malformed(
          file, "the file ended inside its header (" + json.length + " of " + length + " bytes)");
    }
    if (json[0] != '{') {
      throw malformed(
          file,
          String.format(
              "the header does not start with '{' (first bytes %02X %02X), so this is not"
                  + " safetensors",
              json[0], json[1]));
    }
    return parse(json, size - 8 - length, 8 + length, file);
  }

  private static Header parse(byte[] json, long dataSize, long dataStart, Path file) {
    List<Entry> entries = new ArrayList<>();
    Map<String, String> metadata = new LinkedHashMap<>();
    try (JsonParser p = JSON.createParser(json)) {
      expect(p, JsonToken.START_OBJECT, "the header", file);
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        if (name.equals(METADATA)) {
          metadata(p, metadata, file);
        } else {
          entries.add(entry(p, name, file));
        }
      }
      if (p.currentToken() != JsonToken.END_OBJECT) {
        throw malformed(file, "the header is not a JSON object");
      }
      if (p.nextToken() != null) {
        throw malformed(file, "the header has data after its JSON object");
      }
    } catch (JsonProcessingException e) {
      throw malformed(
          file,
          "the header is not valid JSON ("
              + InputFiles.printable(e.getOriginalMessage(), 200)
              // A broken limit (a 30-digit number) has no location.
              + (e.getLocation() == null ? "" : " at byte " + e.getLocation().getByteOffset())
              + ")");
    } catch (IOException e) {
      // Not JSON at the encoding level: NUL bytes near the start make Jackson guess UTF-16 or
      // UTF-32 and fail with a CharConversionException.
      throw malformed(
          file, "the header is not UTF-8 JSON (" + InputFiles.printable(e.getMessage(), 200) + ")");
    }
    checkLayout(entries, dataSize, file);
    return new Header(entries, metadata, dataStart);
  }

  private static void metadata(JsonParser p, Map<String, String> metadata, Path file)
      throws IOException {
    expect(p, JsonToken.START_OBJECT, "'" + METADATA + "'", file);
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String key = p.currentName();
      if (p.nextToken() != JsonToken.VALUE_STRING) {
        throw malformed(
            file,
            "'"
                + METADATA
                + "' must map strings to strings, but "
                + InputFiles.quote(key)
                + " holds "
                + describe(p.currentToken()));
      }
      metadata.put(key, p.getText());
    }
  }

  private static Entry entry(JsonParser p, String name, Path file) throws IOException {
    String what = "tensor " + InputFiles.quote(name);
    expect(p, JsonToken.START_OBJECT, what, file);
    String dtypeName = null;
    long[] shape = null;
    long[] offsets = null;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      switch (field) {
        case "dtype" -> {
          if (p.nextToken() != JsonToken.VALUE_STRING) {
            throw malformed(
                file, what + " has a dtype that is " + describe(p.currentToken()) + ", not a name");
          }
          dtypeName = p.getText();
        }
        case "shape" -> shape = integers(p, what + " shape", MAX_RANK, file);
        case "data_offsets" -> offsets = integers(p, what + " data_offsets", 2, file);
        default -> throw malformed(file, what + " has an unknown field " + InputFiles.quote(field));
      }
    }
    if (dtypeName == null || shape == null || offsets == null) {
      String missing = dtypeName == null ? "dtype" : shape == null ? "shape" : "data_offsets";
      throw malformed(file, what + " has no '" + missing + "'");
    }
    DataType dtype = DTYPES.get(dtypeName);
    if (dtype == null) {
      throw malformed(
          file,
          what
              + " has dtype "
              + InputFiles.quote(dtypeName)
              + ", which is not supported (one of "
              + String.join(", ", DTYPES.keySet().stream().sorted().toList())
              + ")");
    }
    if (offsets.length != 2) {
      throw malformed(
          file, what + " has " + offsets.length + " data_offsets, expected 2 (begin, end)");
    }
    if (offsets[0] > offsets[1]) {
      throw malformed(
          file,
          what + " has data_offsets " + Arrays.toString(offsets) + " that end before they begin");
    }
    OptionalLong bytes = InputFiles.product(concat(shape, dtype.getNumOfBytes()));
    String declared = Arrays.toString(shape) + " of " + dtypeName;
    if (bytes.isEmpty()) {
      throw malformed(file, what + " has shape " + declared + ", more bytes than 64 bits count");
    }
    if (bytes.getAsLong() != offsets[1] - offsets[0]) {
      throw malformed(
          file,
          what
              + " has shape "
              + declared
              + " ("
              + bytes.getAsLong()
              + " bytes) but data_offsets "
              + Arrays.toString(offsets)
              + " ("
              + (offsets[1] - offsets[0])
              + " bytes)");
    }
    // An empty tensor still has strides, the products of its dimensions (a 0 counting as 1): the
    // engine refuses with an exception of its own when they pass 64 bits.
    long[] strides = Arrays.stream(shape).map(d -> Math.max(d, 1)).toArray();
    if (InputFiles.product(concat(strides, dtype.getNumOfBytes())).isEmpty()) {
      throw malformed(
          file, what + " has shape " + declared + ", whose dimensions multiply past 64 bits");
    }
    if (bytes.getAsLong() > InputFiles.MAX_ARRAY) {
      throw malformed(
          file,
          what
              + " has "
              + bytes.getAsLong()
              + " bytes, more than one tensor may hold here ("
              + InputFiles.MAX_ARRAY
              + ")");
    }
    return new Entry(name, dtype, shape, offsets[0], offsets[1]);
  }

  /** A JSON array of at most {@code max} non-negative integers that fit in a long. */
  private static long[] integers(JsonParser p, String what, int max, Path file) throws IOException {
    expect(p, JsonToken.START_ARRAY, what, file);
    long[] values = new long[Math.min(max, 8)];
    int n = 0;
    for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
      if (t != JsonToken.VALUE_NUMBER_INT
          || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
        throw malformed(
            file,
            what
                + " holds "
                + (t == JsonToken.VALUE_NUMBER_INT ? p.getText() : describe(t))
                + ", not an integer of 64 bits");
      }
      long v = p.getLongValue();
      if (v < 0) {
        throw malformed(file, what + " holds " + v + ", which is negative");
      }
      if (n == max) {
        throw malformed(file, what + " has more than " + max + " values");
      }
      if (n == values.length) {
        values = Arrays.copyOf(values, Math.min(max, 2 * n));
      }
      values[n++] = v;
    }
    return Arrays.copyOf(values, n);
  }

  /** Offsets inside the data section, covering it without gap or overlap. */
  private static void checkLayout(List<Entry> entries, long dataSize, Path file) {
    List<Entry> byOffset = new ArrayList<>(entries);
    byOffset.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
    long at = 0;
    Entry previous = null;
    for (Entry e : byOffset) {
      if (e.begin() < at) {
        throw malformed(
            file,
            "tensors "
                + InputFiles.quote(previous.name())
                + " and "
                + InputFiles.quote(e.name())
                + " overlap in the data section (bytes "
                + e.begin()
                + " to "
                + at
                + ")");
      }
      if (e.begin() > at) {
        throw malformed(
            file,
            "no tensor holds bytes "
                + at
                + " to "
                + e.begin()
                + " of the data section (tensor "
                + InputFiles.quote(e.name())
                + " begins there)");
      }
      if (e.end() > dataSize) {
        throw malformed(
            file,
            "tensor "
                + InputFiles.quote(e.name())
                + " ends at byte "
                + e.end()
                + " of the data section, which has only "
                + dataSize
                + " bytes (truncated?)");
      }
      at = e.end();
      previous = e;
    }
    if (at != dataSize) {
      throw malformed(
          file,
          "the data section has "
              + dataSize
              + " bytes but its tensors hold "
              + at
              + " (trailing bytes after the last tensor)");
    }
  }

  private static NDArray tensor(
      NDManager manager, Entry entry, InputStream in, byte[] chunk, long dataStart, Path file)
      throws IOException {
    Shape shape = new Shape(entry.shape());
    // The engine aborts the whole VM (std::terminate) on a bfloat16 tensor made from a buffer, so
    // bfloat16 is widened to float32, which is exact: a bfloat16 is the upper half of a float32.
    boolean widen = entry.dtype() == DataType.BFLOAT16;
    DataType type = widen ? DataType.FLOAT32 : entry.dtype();
    if (entry.bytes() == 0) {
      return named(manager.zeros(shape, type), entry);
    }
    // Sized from the header, but only after checkLayout proved the file holds that many bytes.
    long size = widen ? 2 * entry.bytes() : entry.bytes();
    if (size > InputFiles.MAX_ARRAY) {
      throw malformed(
          file,
          "BF16 tensor "
              + InputFiles.quote(entry.name())
              + " is too large to widen to float32 ("
              + size
              + " bytes)");
    }
    ByteBuffer data = ByteBuffer.allocateDirect((int) size).order(ByteOrder.LITTLE_ENDIAN);
    long read = 0;
    while (read < entry.bytes()) {
      int n = in.readNBytes(chunk, 0, (int) Math.min(chunk.length, entry.bytes() - read));
      if (n == 0) {
        throw malformed(
            file,
            "the file ended inside tensor "
                + InputFiles.quote(entry.name())
                + " at byte "
                + (dataStart + entry.begin() + read)
                + " (it is shorter now than when it was opened)");
      }
      if (n % 2 != 0 && widen) {
        n += in.readNBytes(chunk, n, 1); // keep whole bfloat16 values in the chunk
      }
      if (entry.dtype() == DataType.BOOLEAN) {
        requireBooleans(chunk, n, entry, read, file);
      }
      if (widen) {
        for (int i = 0; i + 1 < n; i += 2) {
          data.putShort((short) 0).put(chunk[i]).put(chunk[i + 1]);
        }
      } else {
        data.put(chunk, 0, n);
      }
      read += n;
    }
    data.flip();
    return named(manager.create(data, shape, type), entry);
  }

  /** A bool that is neither 0 nor 1 is undefined behaviour in the engine's C++. */
  private static void requireBooleans(byte[] chunk, int n, Entry entry, long at, Path file) {
    for (int i = 0; i < n; i++) {
      if ((chunk[i] & 0xFE) != 0) {
        throw malformed(
            file,
            "BOOL tensor "
                + InputFiles.quote(entry.name())
                + " holds byte "
                + (chunk[i] & 0xFF)
                + " at element "
                + (at + i)
                + " (a bool is 0 or 1)");
      }
    }
  }

  private static NDArray named(NDArray array, Entry entry) {
    array.setName(entry.name());
    return array;
  }

  private static long[] concat(long[] shape, long last) {
    long[] all = Arrays.copyOf(shape, shape.length + 1);
    all[shape.length] = last;
    return all;
  }

  private static void expect(JsonParser p, JsonToken token, String what, Path file)
      throws IOException {
    JsonToken t = p.nextToken();
    if (t != token) {
      throw malformed(file, what + " is " + describe(t) + ", expected " + describe(token));
    }
  }

  private static String describe(JsonToken t) {
    if (t == null) {
      return "missing";
    }
    return switch (t) {
      case START_OBJECT -> "an object";
      case START_ARRAY -> "an array";
      case VALUE_STRING -> "a string";
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
      case VALUE_TRUE, VALUE_FALSE -> "a boolean";
      case VALUE_NULL -> "null";
      default -> t.toString();
    };
  }

  private static InvalidFileException malformed(Path file, String problem) {
    return new InvalidFileException(file, "not a readable safetensors file: " + problem);
  }
}
