package io.scoreflow.worker.exchange.ring;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Encoding and decoding of payloads, including elements that straddle network pieces. */
class PayloadCodecTest {

  /** Splits bytes into direct-buffer pieces of awkward sizes, like HTTP/2 frames do. */
  private static ByteString pieces(byte[] bytes, int seed) {
    Random random = new Random(seed);
    List<ByteString> parts = new ArrayList<>();
    for (int at = 0; at < bytes.length; ) {
      int n = Math.min(bytes.length - at, 129 + random.nextInt(700));
      ByteBuffer direct = ByteBuffer.allocateDirect(n);
      direct.put(bytes, at, n).flip();
      parts.add(UnsafeByteOperations.unsafeWrap(direct));
      at += n;
    }
    return ByteString.copyFrom(parts);
  }

  @ParameterizedTest
  @EnumSource(WireEncoding.class)
  void straddlingElementsDecodeIntoCopiesAndSums(WireEncoding encoding) {
    int n = 3001;
    float[] src = new float[n];
    Random random = new Random(3);
    for (int i = 0; i < n; i++) {
      src[i] = (float) random.nextGaussian();
    }
    byte[] bytes = new byte[n * encoding.bytesPerElement()];
    assertEquals(bytes.length, PayloadCodec.encode(src, 0, n, encoding, bytes, new short[n]));
    ByteString payload = pieces(bytes, 5);
    assertTrue(payload.asReadOnlyByteBufferList().size() > 5);

    float[] expected = new float[n];
    for (int i = 0; i < n; i++) {
      expected[i] = encoding == WireEncoding.FP32 ? src[i] : Bf16.round(src[i]);
    }
    float[] copy = new float[n + 10];
    PayloadCodec.decode(payload, encoding, copy, 10, n, false, new PayloadCodec.Scratch());
    assertArrayEquals(expected, java.util.Arrays.copyOfRange(copy, 10, n + 10), 0f);

    float[] sum = new float[n + 1];
    java.util.Arrays.fill(sum, 1f);
    PayloadCodec.decode(payload, encoding, sum, 1, n, true, new PayloadCodec.Scratch());
    assertEquals(1f, sum[0], 0f);
    for (int i = 0; i < n; i++) {
      assertEquals(1f + expected[i], sum[i + 1], 0f, "element " + i);
    }
  }

  @Test
  void bf16RoundsToNearestEven() {
    // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties go to the even mantissa, 1.
    assertEquals(1f, Bf16.round(1f + 0x1p-8f), 0f);
    // 1 + 3 * 2^-8 lies halfway between 1 + 2^-7 and 1 + 2^-6: even is 1 + 2^-6.
    assertEquals(1f + 0x1p-6f, Bf16.round(1f + 3 * 0x1p-8f), 0f);
    assertEquals(1f + 0x1p-7f, Bf16.round(1f + 0x1p-8f + 0x1p-20f), 0f);
    assertEquals(-2.5f, Bf16.round(-2.5f), 0f);
    assertTrue(Float.isNaN(Bf16.round(Float.NaN)));
    assertEquals(Float.POSITIVE_INFINITY, Bf16.round(Float.POSITIVE_INFINITY), 0f);
    assertEquals(Float.POSITIVE_INFINITY, Bf16.round(Float.MAX_VALUE), 0f);
  }
}
