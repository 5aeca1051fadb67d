package io.scoreflow.ckpt;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Names inside a checkpoint root. Everything a reader must ignore starts with a dot: temporary
 * directories, directories being deleted, superseded checkpoints, the pointer's temporary file and
 * the writer's lock. Only {@code step-<digits>} directories are checkpoints; {@code corrupt-<time>}
 * folders hold checkpoints set aside because none verified, visible to people and ignored by
 * readers and writers alike.
 */
public final class CheckpointLayout {
  static final String LATEST = "LATEST";

  /**
   * The manifest's file name inside a checkpoint directory; the checkpoint service sends it first.
   */
  public static final String MANIFEST = "manifest.json";

  /**
   * The SHA-256 of the manifest's bytes, beside it (format 2 on); the checkpoint service sends it
   * second. See {@link ManifestChecksum}.
   */
  public static final String MANIFEST_CHECKSUM = "manifest.sha256";

  static final String SAFETENSORS_SUFFIX = ".safetensors";
  static final String LOCK = ".lock";

  /** The generation of the distributed run's ring that owns the root (see CheckpointStore). */
  static final String FENCE = ".generation";

  /** Left behind only by a crash; removed when a writer opens the root. */
  static final String TMP_PREFIX = ".tmp-";

  /** Renamed out of sight before deletion, so a half-deleted checkpoint is never visible. */
  static final String DELETING_PREFIX = ".deleting-";

  /** Checkpoints from an abandoned line of steps; kept (not deleted) in case they are wanted. */
  static final String SUPERSEDED_PREFIX = ".superseded-";

  static final String LATEST_TMP_PREFIX = ".LATEST.tmp";

  /** Checkpoints set aside by {@link CheckpointStore#setAsideUnverifiable}; never deleted. */
  public static final String CORRUPT_PREFIX = "corrupt-";

  private static final Pattern STEP_DIR = Pattern.compile("step-(\\d{9,18})");

  private CheckpointLayout() {}

  /** {@code step-000001200}: nine digits so that names sort like steps up to a billion. */
  static String directoryName(long step) {
    return String.format(Locale.ROOT, "step-%09d", step);
  }

  static OptionalLong parseStep(String name) {
    Matcher m = STEP_DIR.matcher(name);
    return m.matches() ? OptionalLong.of(Long.parseLong(m.group(1))) : OptionalLong.empty();
  }

  static String hidden(String prefix, String base) {
    byte[] random = new byte[6];
    ThreadLocalRandom.current().nextBytes(random);
    return prefix + base + "-" + HexFormat.of().formatHex(random);
  }

  static boolean isLeftover(String name) {
    return name.startsWith(TMP_PREFIX)
        || name.startsWith(DELETING_PREFIX)
        || name.startsWith(LATEST_TMP_PREFIX);
  }

  static String groupFile(String group) {
    return group + SAFETENSORS_SUFFIX;
  }

  /**
   * The operating system's error in words. NIO puts only the path into the message of {@code
   * AccessDeniedException} and friends, so the reason is spelled out here.
   */
  static String describe(IOException e) {
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof NoSuchFileException) {
      return "no such file or directory";
    }
    if (e instanceof FileAlreadyExistsException) {
      return "already exists";
    }
    if (e instanceof DirectoryNotEmptyException) {
      return "directory not empty";
    }
    if (e instanceof NotDirectoryException) {
      return "not a directory";
    }
    if (e instanceof FileSystemException fse && fse.getReason() != null) {
      return fse.getReason();
    }
    return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
  }
}
