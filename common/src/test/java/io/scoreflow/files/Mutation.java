package io.scoreflow.files;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * A change to a valid file's bytes, as a failing disk, a cut download or a hostile writer makes it.
 * Positions are fractions of the length, so one mutation means something for any file; the values
 * written are the ones that break length arithmetic (sign bits, 2^31, 2^32, 2^63 - 1).
 */
public sealed interface Mutation {
  byte[] apply(byte[] bytes);

  /** XORs one byte with a non-zero mask. */
  record Flip(double at, int mask) implements Mutation {
    @Override
    public byte[] apply(byte[] bytes) {
      byte[] out = bytes.clone();
      if (out.length > 0) {
        int i = index(at, out.length);
        out[i] = (byte) (out[i] ^ mask);
      }
      return out;
    }
  }

  /** Keeps a prefix. */
  record Truncate(double keep) implements Mutation {
    @Override
    public byte[] apply(byte[] bytes) {
      return Arrays.copyOf(bytes, (int) Math.floor(keep * bytes.length));
    }
  }

  /** Overwrites {@code width} bytes (2, 4 or 8) with a value: a length or count field lying. */
  record Overwrite(double at, long value, int width, boolean littleEndian) implements Mutation {
    @Override
    public byte[] apply(byte[] bytes) {
      byte[] out = bytes.clone();
      if (out.length < width) {
        return out;
      }
      int i = Math.min(index(at, out.length), out.length - width);
      ByteBuffer b = ByteBuffer.allocate(8);
      b.order(littleEndian ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN).putLong(value);
      byte[] v = b.array();
      for (int k = 0; k < width; k++) {
        out[i + k] = littleEndian ? v[k] : v[8 - width + k];
      }
      return out;
    }
  }

  /** Inserts bytes. */
  record Insert(double at, byte[] junk) implements Mutation {
    @Override
    public byte[] apply(byte[] bytes) {
      int i = bytes.length == 0 ? 0 : index(at, bytes.length + 1);
      byte[] out = new byte[bytes.length + junk.length];
      System.arraycopy(bytes, 0, out, 0, i);
      System.arraycopy(junk, 0, out, i, junk.length);
      System.arraycopy(bytes, i, out, i + junk.length, bytes.length - i);
      return out;
    }

    @Override
    public String toString() {
      return "Insert[at=" + at + ", junk=" + Arrays.toString(junk) + "]";
    }
  }

  /** Removes up to {@code n} bytes. */
  record Delete(double at, int n) implements Mutation {
    @Override
    public byte[] apply(byte[] bytes) {
      if (bytes.length == 0) {
        return bytes;
      }
      int i = index(at, bytes.length);
      int k = Math.min(n, bytes.length - i);
      byte[] out = new byte[bytes.length - k];
      System.arraycopy(bytes, 0, out, 0, i);
      System.arraycopy(bytes, i + k, out, i, bytes.length - i - k);
      return out;
    }
  }

  /**
   * Replaces the {@code index}-th run of ASCII digits (modulo their number) with another number: a
   * shape, offset or header field of a text header claiming something else.
   */
  record ReplaceNumber(int index, String replacement) implements Mutation {
    private static final Pattern DIGITS = Pattern.compile("[0-9]+");

    @Override
    public byte[] apply(byte[] bytes) {
      String text = new String(bytes, StandardCharsets.ISO_8859_1);
      Matcher m = DIGITS.matcher(text);
      List<int[]> runs = new java.util.ArrayList<>();
      while (m.find()) {
        runs.add(new int[] {m.start(), m.end()});
      }
      if (runs.isEmpty()) {
        return bytes;
      }
      int[] run = runs.get(Math.floorMod(index, runs.size()));
      String out = text.substring(0, run[0]) + replacement + text.substring(run[1]);
      return out.getBytes(StandardCharsets.ISO_8859_1);
    }
  }

  private static int index(double at, int length) {
    return Math.min(length - 1, (int) Math.floor(at * length));
  }

  /** Values that break length arithmetic, and some that are merely wrong. */
  static Arbitrary<Long> lengths() {
    return Arbitraries.oneOf(
        Arbitraries.of(
            0L,
            1L,
            -1L,
            7L,
            0x7FL,
            0xFFL,
            0x7FFFL,
            0xFFFFL,
            0x7FFF_FFFFL,
            0x8000_0000L,
            0xFFFF_FFFFL,
            0x1_0000_0000L,
            (100L << 20) + 1,
            1L << 53,
            Long.MAX_VALUE,
            Long.MIN_VALUE),
        Arbitraries.longs(),
        Arbitraries.longs().between(-64, 4096));
  }

  /** Any one mutation. */
  static Arbitrary<Mutation> any() {
    Arbitrary<Double> at = Arbitraries.doubles().between(0, 1).ofScale(4);
    Arbitrary<Mutation> flip =
        Combinators.combine(at, Arbitraries.integers().between(1, 255)).as(Flip::new);
    Arbitrary<Mutation> truncate = at.map(Truncate::new);
    Arbitrary<Mutation> overwrite =
        Combinators.combine(at, lengths(), Arbitraries.of(2, 4, 8), Arbitraries.of(true, false))
            .as(Overwrite::new);
    Arbitrary<Mutation> header =
        Combinators.combine(lengths(), Arbitraries.of(true, false))
            .as((v, le) -> new Overwrite(0, v, 8, le));
    Arbitrary<Mutation> insert =
        Combinators.combine(at, Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(16))
            .as(Insert::new);
    Arbitrary<Mutation> delete =
        Combinators.combine(at, Arbitraries.integers().between(1, 64)).as(Delete::new);
    Arbitrary<String> numbers =
        Arbitraries.oneOf(
            Arbitraries.of(
                "9223372036854775807",
                "9223372036854775808",
                "18446744073709551615",
                "2147483648",
                "4294967296",
                "99999999999999999999999999999",
                "-1",
                "1e3",
                "0",
                "1.5"),
            Arbitraries.longs().between(0, 1L << 40).map(String::valueOf));
    Arbitrary<Mutation> number =
        Combinators.combine(Arbitraries.integers().between(0, 200), numbers).as(ReplaceNumber::new);
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(3, flip),
        net.jqwik.api.Tuple.of(2, truncate),
        net.jqwik.api.Tuple.of(2, overwrite),
        net.jqwik.api.Tuple.of(2, header),
        net.jqwik.api.Tuple.of(1, insert),
        net.jqwik.api.Tuple.of(1, delete),
        net.jqwik.api.Tuple.of(3, number));
  }

  /** One to three mutations, applied in order. */
  static Arbitrary<List<Mutation>> some() {
    return any().list().ofMinSize(1).ofMaxSize(3);
  }

  static byte[] applyAll(List<Mutation> mutations, byte[] bytes) {
    byte[] out = bytes;
    for (Mutation m : mutations) {
      out = m.apply(out);
    }
    return out;
  }
}
