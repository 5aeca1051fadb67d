package io.scoreflow.ckpt;

import java.util.regex.Pattern;

/**
 * The size and SHA-256 (lower-case hex) of one file of a checkpoint, as the manifest records it.
 */
public record FileDigest(String sha256, long size) {
  private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");

  public FileDigest {
    if (sha256 == null || !HEX64.matcher(sha256).matches()) {
      throw new IllegalArgumentException("sha256 must be 64 lower-case hex digits, got " + sha256);
    }
    if (size < 0) {
      throw new IllegalArgumentException("size must be >= 0, got " + size);
    }
  }
}
