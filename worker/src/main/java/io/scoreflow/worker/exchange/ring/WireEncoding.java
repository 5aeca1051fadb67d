package io.scoreflow.worker.exchange.ring;

import io.scoreflow.proto.v1.Encoding;

/**
 * How chunk payloads travel. Sums are always accumulated in float32; {@link #BF16} only rounds what
 * goes on the wire (half the bytes, about 3 significant decimal digits per message).
 */
public enum WireEncoding {
  /** Little-endian IEEE-754 float32: exact. */
  FP32(4, Encoding.FP32),
  /** Little-endian bfloat16, rounded to nearest even from float32. */
  BF16(2, Encoding.BF16);

  private final int bytesPerElement;
  private final Encoding proto;

  WireEncoding(int bytesPerElement, Encoding proto) {
    this.bytesPerElement = bytesPerElement;
    this.proto = proto;
  }

  public int bytesPerElement() {
    return bytesPerElement;
  }

  Encoding proto() {
    return proto;
  }
}
