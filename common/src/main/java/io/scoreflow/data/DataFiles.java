package io.scoreflow.data;

import io.scoreflow.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** File checks shared by the readers, each failing with one message that names the file. */
final class DataFiles {
  private DataFiles() {}

  static void requireDirectory(Path dir, String expected) {
    if (!Files.exists(dir)) {
      throw new InvalidInputException(dir + ": no such directory (expected " + expected + ")");
    }
    if (!Files.isDirectory(dir)) {
      throw new InvalidInputException(dir + ": not a directory (expected " + expected + ")");
    }
  }

  static void requireRegularFile(Path file, String expected) {
    if (!Files.exists(file)) {
      throw new InvalidInputException(file + ": no such file (expected " + expected + ")");
    }
    if (!Files.isRegularFile(file)) {
      throw new InvalidInputException(file + ": not a regular file (expected " + expected + ")");
    }
    if (!Files.isReadable(file)) {
      throw new InvalidInputException(file + ": not readable (permission denied)");
    }
  }

  static long size(Path file) {
    try {
      return Files.size(file);
    } catch (IOException e) {
      throw unreadable(file, e);
    }
  }

  /** The error for an I/O failure on {@code file}, with the JDK's reason in words. */
  static InvalidInputException unreadable(Path file, IOException e) {
    if (e instanceof NoSuchFileException) {
      return new InvalidInputException(file + ": no such file", e);
    }
    String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return new InvalidInputException(file + ": cannot be read (" + reason + ")", e);
  }
}
