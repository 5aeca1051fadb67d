package io.scoreflow.collective;

/** bfloat16 conversions: the upper 16 bits of a float32, rounded to nearest, ties to even. */
final class Bf16 {

  private Bf16() {}

  /** The bfloat16 bits nearest to {@code f} (ties to even); NaN stays a (quiet) NaN. */
  static short fromFloat(float f) {
    int bits = Float.floatToRawIntBits(f);
    if ((bits & 0x7fffffff) > 0x7f800000) {
      // Rounding could carry a NaN's payload into the exponent and make it infinite.
      return (short) ((bits >>> 16) | 0x0040);
    }
    int lsb = (bits >>> 16) & 1;
    return (short) ((bits + 0x7fff + lsb) >>> 16);
  }

  static float toFloat(short bf16) {
    return Float.intBitsToFloat((bf16 & 0xffff) << 16);
  }

  /** {@code f} rounded to the nearest bfloat16, as a float32. */
  static float round(float f) {
    return toFloat(fromFloat(f));
  }
}
