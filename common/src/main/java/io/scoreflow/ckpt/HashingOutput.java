package io.scoreflow.ckpt;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Writes to a {@link CheckpointIo.WritableFile} while computing the SHA-256 and size of what was
 * written, so the manifest's digest costs no second pass over the file.
 */
final class HashingOutput {
  private final CheckpointIo.WritableFile file;
  private final MessageDigest digest = sha256();
  private long size;

  HashingOutput(CheckpointIo.WritableFile file) {
    this.file = file;
  }

  void write(ByteBuffer bytes) throws IOException {
    digest.update(bytes.duplicate());
    size += bytes.remaining();
    file.write(bytes);
  }

  FileDigest digest() {
    return new FileDigest(HexFormat.of().formatHex(digest.digest()), size);
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }
}
