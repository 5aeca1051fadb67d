package io.scoreflow.files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {

  @Test
  void aWrittenFileIsReadableByEveryoneAndAFailedWriteLeavesTheOldOneAndNothingElse(
      @TempDir Path dir) throws IOException {
    Path target = dir.resolve("sub").resolve("results.md");
    AtomicFiles.write(target, tmp -> Files.writeString(tmp, "first"));
    assertEquals("first", Files.readString(target));
    assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(target)));

    IOException failure =
        assertThrows(
            IOException.class,
            () ->
                AtomicFiles.write(
                    target,
                    tmp -> {
                      Files.writeString(tmp, "half");
                      throw new IOException("disk full");
                    }));
    assertEquals("disk full", failure.getMessage());
    assertEquals("first", Files.readString(target));
    try (var files = Files.list(target.getParent())) {
      assertEquals(List.of(target), files.toList());
    }
  }
}
