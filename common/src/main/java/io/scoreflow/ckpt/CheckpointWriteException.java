package io.scoreflow.ckpt;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * A checkpoint could not be written (disk full, permission denied, I/O error). The message names
 * the checkpoint, the path and the operating system's error. Earlier checkpoints are untouched when
 * this is thrown: nothing but the new checkpoint's temporary directory was written.
 */
public final class CheckpointWriteException extends UncheckedIOException {
  private static final long serialVersionUID = 1L;

  CheckpointWriteException(String message, IOException cause) {
    super(message, cause);
  }
}
