package io.scoreflow.files;

import io.scoreflow.InvalidInputException;
import java.nio.file.Path;

/**
 * A file the user gave that cannot be used as what it should be: missing, unreadable, or not of its
 * format (a length, count or field that its bytes do not back). The message is the file (and,
 * inside an archive, the entry), then the problem, on one line.
 */
public class InvalidFileException extends InvalidInputException {
  private static final long serialVersionUID = 1L;

  private final transient Path file;
  private final String problem;

  public InvalidFileException(Path file, String problem) {
    this(file, null, problem, null);
  }

  public InvalidFileException(Path file, String problem, Throwable cause) {
    this(file, null, problem, cause);
  }

  /**
   * @param part the entry of an archive (an npz's {@code x.npy}) the problem is in, or null
   */
  public InvalidFileException(Path file, String part, String problem, Throwable cause) {
    super(file + (part == null ? "" : " (" + part + ")") + ": " + problem, cause);
    this.file = file;
    this.problem = problem;
  }

  /** The file at fault. */
  public Path file() {
    return file;
  }

  /** The message without the file. */
  public String problem() {
    return problem;
  }
}
