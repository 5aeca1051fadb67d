package io.scoreflow;

/**
 * A problem with what the user gave (a flag, a config value, a file), as opposed to a bug. The
 * message is shown to the user as one line, without a stack trace, so it must name the offending
 * input and say what was expected.
 */
public class InvalidInputException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public InvalidInputException(String message) {
    super(message);
  }

  public InvalidInputException(String message, Throwable cause) {
    super(message, cause);
  }

  /** Throws with the formatted message unless {@code condition} holds. */
  public static void require(boolean condition, String format, Object... args) {
    if (!condition) {
      throw new InvalidInputException(String.format(java.util.Locale.ROOT, format, args));
    }
  }
}
