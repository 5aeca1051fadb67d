package io.scoreflow.files;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Writing a result file so that no reader ever sees half of it: into a temporary file beside the
 * target, then one atomic rename. The file is readable by everyone (rw-r--r--), as a file written
 * in place would be under the usual umask; a temporary file alone would be the owner's only. Keys
 * are not written this way ({@code Pem} keeps them private).
 */
public final class AtomicFiles {

  /** What fills the temporary file. */
  @FunctionalInterface
  public interface Writer {
    void write(Path tmp) throws IOException;
  }

  private AtomicFiles() {}

  /** Writes {@code target} with {@code writer}; creates its directory; on failure, no file. */
  public static void write(Path target, Writer writer) throws IOException {
    Path abs = target.toAbsolutePath();
    Path dir = abs.getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, "." + abs.getFileName(), ".tmp");
    try {
      writer.write(tmp);
      if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
      }
      Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
