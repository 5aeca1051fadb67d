package io.scoreflow.ckpt;

import static io.scoreflow.ckpt.InvalidCheckpointException.Reason.MANIFEST_CHECKSUM;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code manifest.sha256}: the SHA-256 of the manifest's bytes exactly as written, in the line
 * format of {@code sha256sum} ({@code <64 hex digits> manifest.json}), so an operator can also
 * check a checkpoint by hand with {@code sha256sum -c manifest.sha256} inside its directory.
 *
 * <p>The manifest holds the digest of every other file; this file is what makes the manifest itself
 * trustworthy, so a flipped bit anywhere in a checkpoint is caught. It is parsed strictly (exactly
 * one line, lower-case hex, that file name): a flipped bit in it either breaks the line or names
 * another digest, and both fail.
 */
final class ManifestChecksum {
  private static final Pattern LINE =
      Pattern.compile("([0-9a-f]{64})  " + Pattern.quote(CheckpointLayout.MANIFEST) + "\n");

  private ManifestChecksum() {}

  /** The contents of {@code manifest.sha256} for a manifest of these bytes. */
  static byte[] of(byte[] manifest) {
    return (sha256(manifest) + "  " + CheckpointLayout.MANIFEST + "\n")
        .getBytes(StandardCharsets.US_ASCII);
  }

  /**
   * Checks {@code manifest} against the contents of its checksum file.
   *
   * @param dir the checkpoint directory, for messages
   * @throws InvalidCheckpointException with {@link
   *     InvalidCheckpointException.Reason#MANIFEST_CHECKSUM} if the checksum file is malformed or
   *     names another digest
   */
  static void verify(Path dir, byte[] manifest, byte[] checksumFile) {
    Matcher m = LINE.matcher(new String(checksumFile, StandardCharsets.ISO_8859_1));
    if (!m.matches()) {
      throw new InvalidCheckpointException(
          MANIFEST_CHECKSUM,
          dir,
          CheckpointLayout.MANIFEST_CHECKSUM
              + " is malformed (expected one line '<64 lower-case hex digits>  "
              + CheckpointLayout.MANIFEST
              + "', "
              + checksumFile.length
              + " bytes found)");
    }
    String actual = sha256(manifest);
    if (!actual.equals(m.group(1))) {
      throw new InvalidCheckpointException(
          MANIFEST_CHECKSUM,
          dir,
          CheckpointLayout.MANIFEST
              + " fails its checksum (SHA-256 "
              + actual
              + ", "
              + CheckpointLayout.MANIFEST_CHECKSUM
              + " says "
              + m.group(1)
              + ")");
    }
  }

  private static String sha256(byte[] bytes) {
    MessageDigest digest = HashingOutput.sha256();
    return HexFormat.of().formatHex(digest.digest(bytes));
  }
}
