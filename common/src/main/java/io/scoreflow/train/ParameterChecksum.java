package io.scoreflow.train;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Locale;
import java.util.zip.CRC32C;

/**
 * A fingerprint of a replica's flat parameter vector: the CRC-32C of its float32 bytes
 * (little-endian, in flat order) and the sum of its values. Data-parallel replicas hold
 * bit-identical parameters after every step, so their checksums must be equal; the sum makes a
 * mismatch readable (how far apart, not only that they differ).
 *
 * @param crc32c CRC-32C of the little-endian float32 bytes
 * @param sum sum of the values, accumulated in double in flat order
 * @param count number of scalars
 */
public record ParameterChecksum(long crc32c, double sum, long count) {

  /** The checksum of {@code values} (a flat parameter vector copied to the host). */
  public static ParameterChecksum of(float[] values) {
    ByteBuffer bytes = ByteBuffer.allocate(values.length * Float.BYTES);
    bytes.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(values);
    CRC32C crc = new CRC32C();
    crc.update(bytes);
    double sum = 0;
    for (float v : values) {
      sum += v;
    }
    return new ParameterChecksum(crc.getValue(), sum, values.length);
  }

  /** The CRC as eight hex digits, the form used in event logs and messages. */
  public String hex() {
    return String.format(Locale.ROOT, "%08x", crc32c);
  }

  @Override
  public String toString() {
    return String.format(Locale.ROOT, "crc32c %s, sum %.9g over %d", hex(), sum, count);
  }
}
