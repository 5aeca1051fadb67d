package io.scoreflow.proto.cluster;

/**
 * The checks every message between nodes makes of its fields when it is made, which is also when
 * Jackson decodes it from another node: a field missing (null) or absurdly long is refused there,
 * so a malformed or hostile message is dropped by Pekko's serialization (and logged) instead of
 * reaching an actor that would fail on it.
 */
final class Fields {

  /** Ids, hosts, job names: short. */
  static final int NAME = 256;

  /** A file or directory path. */
  static final int PATH = 4096;

  /** Free text (a failure's reason). */
  static final int TEXT = 16 << 10;

  private Fields() {}

  static String text(String value, String field, int max) {
    if (value == null) {
      throw new IllegalArgumentException(field + " is missing");
    }
    if (value.length() > max) {
      throw new IllegalArgumentException(
          field + " is " + value.length() + " characters, at most " + max + " allowed");
    }
    return value;
  }

  /**
   * A reason, cut to {@link #TEXT} characters: it is only ever shown, so a sender whose exception
   * message is longer still gets its report through (ids, by contrast, are refused when too long).
   */
  static String reason(String value) {
    text(value, "reason", Integer.MAX_VALUE);
    return value.length() <= TEXT
        ? value
        : value.substring(0, TEXT) + "… (" + value.length() + " characters in all)";
  }

  static <T> T present(T value, String field) {
    if (value == null) {
      throw new IllegalArgumentException(field + " is missing");
    }
    return value;
  }

  static int port(int port, String field) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException(field + " " + port + " is outside 0..65535");
    }
    return port;
  }

  static byte[] bytes(byte[] value, String field, int max) {
    if (value != null && value.length > max) {
      throw new IllegalArgumentException(
          field + " is " + value.length + " bytes, at most " + max + " allowed");
    }
    return value == null ? new byte[0] : value;
  }
}
