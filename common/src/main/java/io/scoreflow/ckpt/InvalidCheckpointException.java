package io.scoreflow.ckpt;

import io.scoreflow.InvalidInputException;
import java.nio.file.Path;

/**
 * A checkpoint on disk that cannot be loaded: missing, incomplete, damaged or of another format.
 * When the caller named the checkpoint this is the error it sees; when the store looks for the
 * newest valid checkpoint it logs the reason and falls back to an older one (except for {@link
 * Reason#FORMAT_VERSION}, see there).
 */
public final class InvalidCheckpointException extends InvalidInputException {
  private static final long serialVersionUID = 1L;

  /** Why a checkpoint was refused; the label is the short form log lines use. */
  public enum Reason {
    MISSING_DIRECTORY("missing directory"),
    MISSING_MANIFEST("missing manifest"),
    MALFORMED_MANIFEST("malformed manifest"),
    /**
     * {@code manifest.sha256} is malformed or does not match the manifest's bytes: the manifest
     * (and so every digest it lists) cannot be trusted.
     */
    MANIFEST_CHECKSUM("manifest checksum mismatch"),
    /**
     * Written by another version of this code. Never a reason to fall back: an older checkpoint
     * would silently throw away the newer run's progress, so the store stops instead. Only a
     * manifest whose checksum verifies can claim another format; an unverified claim is damage.
     */
    FORMAT_VERSION("unsupported format"),
    STEP_MISMATCH("step mismatch"),
    MISSING_FILE("missing file"),
    SIZE_MISMATCH("size mismatch"),
    CHECKSUM_MISMATCH("checksum mismatch"),
    MALFORMED_TENSORS("malformed tensors"),
    UNREADABLE("unreadable");

    private final String label;

    Reason(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }
  }

  private final transient Path location;
  private final Reason reason;
  private final String detail;

  InvalidCheckpointException(Reason reason, Path location, String detail) {
    super(location + ": " + detail);
    this.reason = reason;
    this.location = location;
    this.detail = detail;
  }

  InvalidCheckpointException(Reason reason, Path location, String detail, Throwable cause) {
    super(location + ": " + detail, cause);
    this.reason = reason;
    this.location = location;
    this.detail = detail;
  }

  public Reason reason() {
    return reason;
  }

  /** The checkpoint directory or file at fault. */
  public Path location() {
    return location;
  }

  /** The message without the location. */
  public String detail() {
    return detail;
  }
}
