package io.scoreflow.worker.exchange.ring;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;

/**
 * Encodes floats into chunk payloads and decodes payloads into a float buffer, adding or copying.
 *
 * <p>Received payloads alias gRPC's network buffers and arrive in pieces of about 16 KiB (HTTP/2
 * frames) at arbitrary byte boundaries, so an element may straddle two pieces. Whole elements are
 * copied in bulk (a little-endian view's bulk get is a memory copy on x86) or added straight from
 * the piece by a loop of absolute gets on a view, which the JIT compiles to vector loads: about 10
 * GB/s here against 5.4 GB/s when the elements first went through a scratch array and were then
 * added (one pass over memory instead of two); the few straddling bytes go through a 4-byte carry.
 */
public final class PayloadCodec {

  /** Elements per scratch batch of bf16 copies: 32 KiB of halves, cache-resident. */
  public static final int SCRATCH_ELEMENTS = 16 << 10;

  private PayloadCodec() {}

  /** Reused per receiving ring: the cache-resident array that copied bf16 elements pass through. */
  public static final class Scratch {
    final short[] halves = new short[SCRATCH_ELEMENTS];
  }

  /**
   * Writes {@code src[off, off + n)} into {@code dst} and returns the number of bytes written; bf16
   * goes through {@code halves} (at least {@code n} long), so both steps are bulk loops.
   */
  public static int encode(
      float[] src, int off, int n, WireEncoding encoding, byte[] dst, short[] halves) {
    ByteBuffer out = ByteBuffer.wrap(dst).order(ByteOrder.LITTLE_ENDIAN);
    if (encoding == WireEncoding.FP32) {
      out.asFloatBuffer().put(src, off, n);
      return 4 * n;
    }
    for (int i = 0; i < n; i++) {
      halves[i] = Bf16.fromFloat(src[off + i]);
    }
    out.asShortBuffer().put(halves, 0, n);
    return 2 * n;
  }

  /**
   * Decodes {@code payload} (exactly {@code n} elements, checked by the caller) into {@code
   * dst[off, off + n)}: adds when {@code accumulate}, else overwrites.
   */
  public static void decode(
      ByteString payload,
      WireEncoding encoding,
      float[] dst,
      int off,
      int n,
      boolean accumulate,
      Scratch scratch) {
    int width = encoding.bytesPerElement();
    byte[] carry = new byte[4];
    int carried = 0;
    int e = 0;
    for (ByteBuffer piece : payload.asReadOnlyByteBufferList()) {
      ByteBuffer p = piece.order(ByteOrder.LITTLE_ENDIAN);
      while (carried > 0 && carried < width && p.hasRemaining()) {
        carry[carried++] = p.get();
      }
      if (carried == width) {
        float v = fromCarry(carry, encoding);
        dst[off + e] = accumulate ? dst[off + e] + v : v;
        e++;
        carried = 0;
      }
      int whole = Math.min(p.remaining() / width, n - e);
      if (encoding == WireEncoding.FP32) {
        FloatBuffer floats = p.asFloatBuffer();
        if (accumulate) {
          add(dst, off + e, floats, whole);
        } else {
          floats.get(dst, off + e, whole);
        }
      } else if (accumulate) {
        addWidened(dst, off + e, p.asShortBuffer(), whole);
      } else {
        ShortBuffer halves = p.asShortBuffer();
        short[] h = scratch.halves;
        for (int done = 0; done < whole; ) {
          int k = Math.min(h.length, whole - done);
          halves.get(h, 0, k);
          widen(dst, off + e + done, h, k);
          done += k;
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
  }

  /** Adds {@code src[0, n)} (a view of a received piece) into {@code dst[off, off + n)}. */
  private static void add(float[] dst, int off, FloatBuffer src, int n) {
    for (int i = 0; i < n; i++) {
      dst[off + i] += src.get(i);
    }
  }

  /** As {@link #add} for bf16; bf16 to float32 is exact: the halves are the upper 16 bits. */
  private static void addWidened(float[] dst, int off, ShortBuffer src, int n) {
    for (int i = 0; i < n; i++) {
      dst[off + i] += Float.intBitsToFloat(src.get(i) << 16);
    }
  }

  private static void widen(float[] dst, int off, short[] src, int n) {
    for (int i = 0; i < n; i++) {
      dst[off + i] = Float.intBitsToFloat(src[i] << 16);
    }
  }

  private static float fromCarry(byte[] c, WireEncoding encoding) {
    int low = (c[0] & 0xff) | (c[1] & 0xff) << 8;
    return encoding == WireEncoding.FP32
        ? Float.intBitsToFloat(low | (c[2] & 0xff) << 16 | (c[3] & 0xff) << 24)
        : Bf16.toFloat((short) low);
  }
}
