package io.scoreflow.files;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.OptionalLong;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

/**
 * The growing reads every reader uses, against the plain answer (the stream's first bytes), with
 * streams that hand out their bytes a few at a time as gzip and zip streams do, and lengths past
 * the first buffer so that the buffer really grows.
 */
class InputFilesTest {

  /** Hands out at most {@code piece} bytes per read. */
  private static InputStream trickle(byte[] bytes, int piece) {
    return new ByteArrayInputStream(bytes) {
      @Override
      public synchronized int read(byte[] b, int off, int len) {
        return super.read(b, off, Math.min(len, piece));
      }
    };
  }

  @Property
  void readUpToReturnsTheStreamsFirstBytes(
      @ForAll @IntRange(min = 0, max = 300_000) int available,
      @ForAll @IntRange(min = 0, max = 300_000) int asked,
      @ForAll @IntRange(min = 1, max = 70_000) int piece,
      @ForAll long seed)
      throws IOException {
    byte[] bytes = new byte[available];
    new Random(seed).nextBytes(bytes);
    byte[] read = InputFiles.readUpTo(trickle(bytes, piece), asked);
    assertArrayEquals(Arrays.copyOf(bytes, Math.min(available, asked)), read);
  }

  @Property
  void readFloatsUpToReturnsTheStreamsFirstLittleEndianFloats(
      @ForAll @IntRange(min = 0, max = 1_200_000) int available,
      @ForAll @IntRange(min = 0, max = 300_000) int asked,
      @ForAll @IntRange(min = 1, max = 70_000) int piece,
      @ForAll long seed)
      throws IOException {
    byte[] bytes = new byte[available];
    new Random(seed).nextBytes(bytes);
    float[] expected = new float[Math.min(available / 4, asked)];
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(expected);
    float[] read = InputFiles.readFloatsUpTo(trickle(bytes, piece), asked);
    assertEquals(expected.length, read.length);
    for (int i = 0; i < read.length; i++) { // bit for bit: random bytes are often NaNs
      assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(read[i]), "" + i);
    }
  }

  /** Found by this property: a zero after factors whose product overflows was "too large". */
  @Example
  void aZeroFactorMakesTheProductZeroHoweverLargeTheOthers() {
    assertEquals(OptionalLong.of(0), InputFiles.product(37513, 245871352247349L, 0));
  }

  /**
   * Found by the property below: the float reader trusted readNBytes to fill its chunk, which a
   * stream may not (ByteArrayInputStream gives one read's worth); a value split across reads was
   * lost.
   */
  @Example
  void aFloatSplitAcrossReadsIsStillRead() throws IOException {
    byte[] one = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).array();
    assertArrayEquals(new float[] {1.5f}, InputFiles.readFloatsUpTo(trickle(one, 1), 1));
  }

  @Property
  void productIsExactOrEmpty(
      @ForAll @LongRange(min = 0) long a,
      @ForAll @LongRange(min = 0) long b,
      @ForAll @LongRange(min = 0, max = 9) long c) {
    java.math.BigInteger exact =
        java.math.BigInteger.valueOf(a)
            .multiply(java.math.BigInteger.valueOf(b))
            .multiply(java.math.BigInteger.valueOf(c));
    OptionalLong p = InputFiles.product(a, b, c);
    assertEquals(
        exact.bitLength() < 64 ? OptionalLong.of(exact.longValue()) : OptionalLong.empty(), p);
  }

  @Example
  void quoteEscapesControlCharactersAndCutsLongNames() {
    assertEquals("'a\\u000ab'", InputFiles.quote("a\nb"));
    assertEquals("'" + "x".repeat(80) + "…(1000 characters)'", InputFiles.quote("x".repeat(1000)));
  }
}
