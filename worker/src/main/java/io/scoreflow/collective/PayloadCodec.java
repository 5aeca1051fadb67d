package io.scoreflow.collective;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Encodes floats into chunk payloads and decodes payloads into a float buffer, adding or copying.
 *
 * <p>Received payloads alias gRPC's network buffers and arrive in pieces of about 16 KiB (HTTP/2
 * frames) at arbitrary byte boundaries, so an element may straddle two pieces. Whole elements of a
 * piece move in bulk (a little-endian view's bulk get is a memory copy on x86); the few straddling
 * bytes go through a small carry. Adding runs over {@code float[]}, which the JIT vectorises.
 */
final class PayloadCodec {

  private PayloadCodec() {}

  /** Writes {@code src[off, off + n)} into {@code dst} and returns the number of bytes written. */
  static int encode(float[] src, int off, int n, WireEncoding encoding, byte[] dst) {
    ByteBuffer out = ByteBuffer.wrap(dst).order(ByteOrder.LITTLE_ENDIAN);
    if (encoding == WireEncoding.FP32) {
      out.asFloatBuffer().put(src, off, n);
      return 4 * n;
    }
    for (int i = 0; i < n; i++) {
      short h = Bf16.fromFloat(src[off + i]);
      dst[2 * i] = (byte) h;
      dst[2 * i + 1] = (byte) (h >> 8);
    }
    return 2 * n;
  }

  /**
   * Decodes {@code payload} (exactly {@code n} elements, checked by the caller) into {@code
   * dst[off, off + n)}: adds when {@code accumulate}, else overwrites. {@code scratch} holds at
   * least {@code n} floats and is used only when adding.
   */
  static void decode(
      ByteString payload,
      WireEncoding encoding,
      float[] dst,
      int off,
      int n,
      boolean accumulate,
      float[] scratch) {
    float[] target = accumulate ? scratch : dst;
    int base = accumulate ? 0 : off;
    int width = encoding.bytesPerElement();
    byte[] carry = new byte[4];
    int carried = 0;
    int e = 0;
    for (ByteBuffer piece : payload.asReadOnlyByteBufferList()) {
      ByteBuffer p = piece.slice().order(ByteOrder.LITTLE_ENDIAN);
      while (carried > 0 && carried < width && p.hasRemaining()) {
        carry[carried++] = p.get();
      }
      if (carried == width) {
        target[base + e++] = fromCarry(carry, encoding);
        carried = 0;
      }
      int whole = Math.min(p.remaining() / width, n - e);
      if (encoding == WireEncoding.FP32) {
        p.asFloatBuffer().get(target, base + e, whole);
      } else {
        int pos = p.position();
        for (int i = 0; i < whole; i++) {
          target[base + e + i] = Bf16.toFloat(p.getShort(pos + 2 * i));
        }
      }
      e += whole;
      p.position(p.position() + whole * width);
      while (p.hasRemaining() && carried < width) {
        carry[carried++] = p.get();
      }
    }
    if (e != n || carried != 0) {
      throw new IllegalArgumentException(
          "payload held " + e + " whole elements (+" + carried + " bytes), expected " + n);
    }
    if (accumulate) {
      for (int i = 0; i < n; i++) {
        dst[off + i] += scratch[i];
      }
    }
  }

  private static float fromCarry(byte[] c, WireEncoding encoding) {
    int low = (c[0] & 0xff) | (c[1] & 0xff) << 8;
    return encoding == WireEncoding.FP32
        ? Float.intBitsToFloat(low | (c[2] & 0xff) << 16 | (c[3] & 0xff) << 24)
        : Bf16.toFloat((short) low);
  }
}
