package io.scoreflow.worker.exchange.ring;

/** bfloat16 conversions: the upper 16 bits of a float32, rounded to nearest, ties to even. */
final class Bf16 {

  private Bf16() {}

  /** The bfloat16 bits nearest to {@code f} (ties to even); NaN stays a (quiet) NaN. */
  static short fromFloat(float f) {
    int bits = Float.floatToRawIntBits(f);
    int rounded = (bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16;
    // Rounding could carry a NaN's payload into the exponent and make it infinite; a select
    // rather than an early return keeps the caller's loop branch-free.
    int nan = (bits >>> 16) | 0x0040;
    return (short) ((bits & 0x7fffffff) > 0x7f800000 ? nan : rounded);
  }

  static float toFloat(short bf16) {
    return Float.intBitsToFloat((bf16 & 0xffff) << 16);
  }

  /** {@code f} rounded to the nearest bfloat16, as a float32. */
  static float round(float f) {
    return toFloat(fromFloat(f));
  }
}
