package io.scoreflow.ckpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoreflow.data.DataCursor;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A manifest (or its checksum file) larger than any real one is refused before it is read. */
class CheckpointManifestSizeTest {

  @TempDir Path dir;

  private CompletedCheckpoint write() {
    try (CheckpointStore store = CheckpointStore.open(dir.resolve("ckpt"))) {
      return store.write(
          CheckpointSnapshot.builder()
              .jobId("size")
              .step(3)
              .generation(1)
              .config("scoreflow { job.name = size }")
              .dataCursor(new DataCursor(0, 0))
              .rng(new RngState(1, Map.of()))
              .group("model", List.of(new HostTensor("w", new long[] {2}, new float[] {1, 2})))
              .build());
    }
  }

  @Test
  void anOversizedManifestIsMalformedNamingItsSize() throws Exception {
    Path step = write().directory();
    // Sparse: 17 MiB claimed on disk without writing them.
    try (RandomAccessFile f = new RandomAccessFile(step.resolve("manifest.json").toFile(), "rw")) {
      f.setLength(17L << 20);
    }
    InvalidCheckpointException e =
        assertThrows(
            InvalidCheckpointException.class, () -> CheckpointReader.verifyDirectory(step));
    assertEquals(InvalidCheckpointException.Reason.MALFORMED_MANIFEST, e.reason());
    assertTrue(e.getMessage().contains("manifest.json is 17825792 bytes"), e.getMessage());
  }

  @Test
  void anOversizedChecksumFileIsMalformed() throws Exception {
    Path step = write().directory();
    try (RandomAccessFile f =
        new RandomAccessFile(step.resolve(CheckpointLayout.MANIFEST_CHECKSUM).toFile(), "rw")) {
      f.setLength(1 << 20);
    }
    InvalidCheckpointException e =
        assertThrows(
            InvalidCheckpointException.class, () -> CheckpointReader.verifyDirectory(step));
    assertEquals(InvalidCheckpointException.Reason.MALFORMED_MANIFEST, e.reason());
  }
}
