package io.scoreflow.ckpt;

import static io.scoreflow.ckpt.InvalidCheckpointException.Reason.CHECKSUM_MISMATCH;
import static io.scoreflow.ckpt.InvalidCheckpointException.Reason.FORMAT_VERSION;
import static io.scoreflow.ckpt.InvalidCheckpointException.Reason.MALFORMED_MANIFEST;
import static io.scoreflow.ckpt.InvalidCheckpointException.Reason.MANIFEST_CHECKSUM;
import static io.scoreflow.ckpt.InvalidCheckpointException.Reason.MISSING_DIRECTORY;
import static io.scoreflow.ckpt.InvalidCheckpointException.Reason.MISSING_FILE;
import static io.scoreflow.ckpt.InvalidCheckpointException.Reason.MISSING_MANIFEST;
import static io.scoreflow.ckpt.InvalidCheckpointException.Reason.SIZE_MISMATCH;
import static io.scoreflow.ckpt.InvalidCheckpointException.Reason.STEP_MISMATCH;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import io.scoreflow.InvalidInputException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damaged, incomplete and stray state under a root: the newest valid checkpoint is found with a
 * WARN line naming what was skipped and why; naming a damaged checkpoint explicitly is an error.
 */
class CheckpointFallbackTest {
  @TempDir Path root;

  private Path step100;
  private Path step200;

  @BeforeEach
  void twoCheckpoints() {
    try (CheckpointStore store = CheckpointStore.builder(root).clock(Snapshots.CLOCK).open()) {
      store.write(Snapshots.of(100));
      store.write(Snapshots.of(200));
    }
    step100 = root.resolve("step-000000100");
    step200 = root.resolve("step-000000200");
  }

  @Test
  void flippedByteFallsBackToThePreviousCheckpointWithAWarning() throws IOException {
    flipByte(step200.resolve("model.safetensors"), 200);
    assertFallsBackTo100(step200, CHECKSUM_MISMATCH, "model.safetensors fails its checksum");
  }

  @Test
  void truncatedFileFallsBack() throws IOException {
    Path file = step200.resolve("ema.safetensors");
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.setLength(raf.length() - 10);
    }
    assertFallsBackTo100(step200, SIZE_MISMATCH, "(truncated)");
  }

  @Test
  void missingFileFallsBack() throws IOException {
    Files.delete(step200.resolve("optimizer.safetensors"));
    assertFallsBackTo100(step200, MISSING_FILE, "optimizer.safetensors is listed in the manifest");
  }

  @Test
  void missingManifestFallsBack() throws IOException {
    Files.delete(step200.resolve("manifest.json"));
    assertFallsBackTo100(step200, MISSING_MANIFEST, "manifest.json is missing");
  }

  @Test
  void garbledManifestFallsBackOnItsChecksum() throws IOException {
    Files.writeString(step200.resolve("manifest.json"), "{\"format\": 2, \"jobId\": ");
    assertFallsBackTo100(step200, MANIFEST_CHECKSUM, "manifest.json fails its checksum");
  }

  @Test
  void garbledManifestWithAMatchingChecksumFallsBackAsMalformed() throws IOException {
    Files.writeString(step200.resolve("manifest.json"), "{\"format\": 2, \"jobId\": ");
    Snapshots.reseal(step200);
    assertFallsBackTo100(step200, MALFORMED_MANIFEST, "not valid JSON");
  }

  @Test
  void missingManifestChecksumFallsBack() throws IOException {
    Files.delete(step200.resolve("manifest.sha256"));
    assertFallsBackTo100(
        step200, MISSING_FILE, "manifest.sha256 is missing and only a format-1 checkpoint");
  }

  @Test
  void garbledManifestChecksumFallsBack() throws IOException {
    Files.writeString(step200.resolve("manifest.sha256"), "not a digest\n");
    assertFallsBackTo100(step200, MANIFEST_CHECKSUM, "manifest.sha256 is malformed");
  }

  /**
   * A checkpoint of format 1 (no manifest checksum), as runs checkpointed before format 2 hold
   * them: still loaded, with a WARN that its manifest is unverified; its files are still verified.
   */
  @Test
  void formatOneCheckpointsStillLoadAsUnverifiedManifests() throws IOException {
    Snapshots.downgradeToFormat1(step200);
    try (LogCapture log = LogCapture.start();
        NDManager manager = NDManager.newBaseManager()) {
      LoadedCheckpoint loaded = CheckpointReader.of(root).newestValid(manager).orElseThrow();
      assertEquals(200, loaded.step());
      assertEquals(CheckpointManifest.UNCHECKSUMMED_FORMAT, loaded.manifest().formatVersion());
      assertArrayEquals(
          Snapshots.of(200).groups().get("model").get(0).data(),
          loaded.tensor("model", "all_modules.0.weight").toFloatArray());
      assertEquals(
          1,
          log.warnings(step200.toString(), "unverified manifest").size(),
          log.lines().toString());
    }
    flipByte(step200.resolve("ema.safetensors"), 100);
    assertFallsBackTo100(step200, CHECKSUM_MISMATCH, "ema.safetensors fails its checksum");
  }

  @Test
  void manifestOfAnotherStepFallsBack() throws IOException {
    Files.move(step200, root.resolve("step-000000150"));
    Files.writeString(root.resolve("LATEST"), "step-000000150\n");
    assertFallsBackTo100(root.resolve("step-000000150"), STEP_MISMATCH, "says step 200");
  }

  @Test
  void latestNamingAMissingDirectoryFallsBack() throws IOException {
    Files.writeString(root.resolve("LATEST"), "step-000000300\n");
    try (LogCapture log = LogCapture.start()) {
      assertEquals(200, CheckpointReader.of(root).newestValid().orElseThrow().step());
      assertEquals(
          1,
          log.warnings("LATEST names", "step-000000300", "which does not exist").size(),
          log.lines().toString());
    }
    deleteTree(step200);
    try (LogCapture log = LogCapture.start()) {
      assertEquals(100, CheckpointReader.of(root).newestValid().orElseThrow().step());
      assertEquals(1, log.warnings("step-000000300", "does not exist").size());
    }
  }

  @Test
  void strayTemporaryDirectoryIsIgnoredByReadersAndRemovedOnOpen() throws IOException {
    // What a writer that died mid-write leaves: a hidden directory with part of a checkpoint.
    Path stray = root.resolve(".tmp-step-000000300-0123456789ab");
    Files.createDirectories(stray);
    Files.write(stray.resolve("model.safetensors"), new byte[] {1, 2, 3});
    Path strayPointer = root.resolve(".LATEST.tmp-0123456789ab");
    Files.writeString(strayPointer, "step-000000300\n");

    assertEquals(200, CheckpointReader.of(root).newestValid().orElseThrow().step());
    assertEquals(List.of(100L, 200L), CheckpointReader.of(root).committedSteps());
    try (CheckpointStore store = CheckpointStore.open(root)) {
      assertFalse(Files.exists(stray));
      assertFalse(Files.exists(strayPointer));
      assertEquals(200, store.newestValid().orElseThrow().step());
    }
  }

  @Test
  void directoryNewerThanLatestWasNeverCommittedAndIsIgnored() throws IOException {
    // A writer that died between renaming step 300 into place and moving LATEST.
    copyTree(step200, root.resolve("step-000000300"));
    Files.writeString(
        root.resolve("step-000000300/manifest.json"),
        Files.readString(root.resolve("step-000000300/manifest.json"))
            .replace("\"step\" : 200", "\"step\" : 300"));
    assertEquals(200, CheckpointReader.of(root).newestValid().orElseThrow().step());
    assertEquals(List.of(100L, 200L), CheckpointReader.of(root).committedSteps());
  }

  @Test
  void withoutLatestTheNewestCompleteDirectoryIsUsed() throws IOException {
    Files.delete(root.resolve("LATEST"));
    try (LogCapture log = LogCapture.start()) {
      assertEquals(200, CheckpointReader.of(root).newestValid().orElseThrow().step());
      assertEquals(1, log.warnings("No LATEST pointer").size());
    }
  }

  @Test
  void nothingValidIsNoneVerifiesNotNoCheckpoint() throws IOException {
    flipByte(step100.resolve("model.safetensors"), 100);
    Files.delete(step200.resolve("manifest.json"));
    try (LogCapture log = LogCapture.start()) {
      assertEquals(Optional.empty(), CheckpointReader.of(root).newestValid());
      assertEquals(2, log.warnings("Skipping checkpoint").size());
      assertEquals(1, log.warnings("No valid checkpoint under " + root).size());
    }
    CheckpointSearch.NoneVerifies<?> none =
        assertInstanceOf(
            CheckpointSearch.NoneVerifies.class,
            CheckpointReader.of(root).searchAtMost(Long.MAX_VALUE));
    // Newest first, each with its own reason: a caller can say why the run cannot continue.
    assertEquals(200, none.newest().step());
    assertEquals(MISSING_MANIFEST, none.newest().failure().reason());
    assertEquals(100, none.skipped().get(1).step());
    assertEquals(CHECKSUM_MISMATCH, none.skipped().get(1).failure().reason());
    assertEquals(
        Optional.empty(), CheckpointReader.of(root.resolve("never-created")).newestValid());
    assertInstanceOf(
        CheckpointSearch.NoCheckpoint.class,
        CheckpointReader.of(root.resolve("never-created")).searchAtMost(Long.MAX_VALUE));
  }

  @Test
  void explicitLoadOfADamagedCheckpointIsAnErrorNotAFallback() throws IOException {
    flipByte(step200.resolve("model.safetensors"), 300);
    CheckpointReader reader = CheckpointReader.of(root);
    try (NDManager manager = NDManager.newBaseManager()) {
      InvalidCheckpointException byStep =
          assertThrows(InvalidCheckpointException.class, () -> reader.load(200, manager));
      assertEquals(CHECKSUM_MISMATCH, byStep.reason());
      assertTrue(
          byStep.getMessage().startsWith(step200 + ": model.safetensors fails its checksum"));
      InvalidCheckpointException byDir =
          assertThrows(
              InvalidCheckpointException.class,
              () -> CheckpointReader.loadDirectory(step200, manager));
      assertEquals(CHECKSUM_MISMATCH, byDir.reason());
      // The user-facing type: one line naming the file and the problem.
      assertTrue(InvalidInputException.class.isInstance(byDir));
      assertFalse(byDir.getMessage().contains("\n"));

      InvalidCheckpointException missing =
          assertThrows(InvalidCheckpointException.class, () -> reader.load(150, manager));
      assertEquals(MISSING_DIRECTORY, missing.reason());
      assertTrue(
          missing.getMessage().contains("committed steps: [100, 200]"), missing.getMessage());

      // The valid one still loads, and by directory too.
      assertEquals(100, reader.load(100, manager).step());
      assertEquals(100, CheckpointReader.loadDirectory(step100, manager).step());
    }
  }

  @Test
  void formatVersionMismatchIsOneClearErrorAndNeverAFallback() throws IOException {
    Path manifest = step200.resolve("manifest.json");
    Files.writeString(
        manifest, Files.readString(manifest).replace("\"format\" : 2", "\"format\" : 3"));
    // A newer writer's manifest, checksummed as it would be.
    Snapshots.reseal(step200);
    String expected = manifest + ": expected checkpoint format 1 or 2, got 3";

    InvalidCheckpointException explicit =
        assertThrows(InvalidCheckpointException.class, () -> CheckpointReader.of(root).verify(200));
    assertEquals(FORMAT_VERSION, explicit.reason());
    assertEquals(expected, explicit.getMessage());
    // Falling back to step 100 would quietly drop the newer run's progress: stop instead.
    InvalidCheckpointException newest =
        assertThrows(
            InvalidCheckpointException.class, () -> CheckpointReader.of(root).newestValid());
    assertEquals(expected, newest.getMessage());
  }

  /** Another format claimed by a manifest its checksum does not vouch for is damage. */
  @Test
  void anUnverifiedClaimOfAnotherFormatFallsBack() throws IOException {
    Path manifest = step200.resolve("manifest.json");
    Files.writeString(
        manifest, Files.readString(manifest).replace("\"format\" : 2", "\"format\" : 3"));
    assertFallsBackTo100(step200, MANIFEST_CHECKSUM, "manifest.json fails its checksum");
    Files.delete(step200.resolve("manifest.sha256"));
    assertFallsBackTo100(
        step200, MISSING_FILE, "manifest.sha256 is missing and only a format-1 checkpoint");
  }

  @Test
  void rootThatIsAFileIsAUserError() throws IOException {
    Path file = Files.writeString(root.resolve("not-a-dir"), "x");
    InvalidInputException e =
        assertThrows(InvalidInputException.class, () -> CheckpointReader.of(file));
    assertEquals("checkpoint root " + file + " is not a directory", e.getMessage());
    assertThrows(InvalidInputException.class, () -> CheckpointStore.open(file));
  }

  private void assertFallsBackTo100(
      Path broken, InvalidCheckpointException.Reason reason, String detail) {
    try (LogCapture log = LogCapture.start();
        NDManager manager = NDManager.newBaseManager()) {
      LoadedCheckpoint loaded = CheckpointReader.of(root).newestValid(manager).orElseThrow();
      assertEquals(100, loaded.step());
      assertEquals(step100, loaded.directory());
      assertArrayEquals(
          Snapshots.of(100).groups().get("model").get(0).data(),
          loaded.tensor("model", "all_modules.0.weight").toFloatArray());
      List<String> warnings = log.warnings("Skipping checkpoint " + broken, reason.label(), detail);
      assertEquals(1, warnings.size(), "WARN line naming dir and reason; log was " + log.lines());
    }
    InvalidCheckpointException e =
        assertThrows(
            InvalidCheckpointException.class, () -> CheckpointReader.verifyDirectory(broken));
    assertEquals(reason, e.reason());
  }

  private static void flipByte(Path file, long position) throws IOException {
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      long at = Math.min(position, raf.length() - 1);
      raf.seek(at);
      int b = raf.read();
      raf.seek(at);
      raf.write(b ^ 0x01);
    }
  }

  private static void copyTree(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (Stream<Path> files = Files.list(from)) {
      for (Path f : files.toList()) {
        Files.copy(f, to.resolve(f.getFileName()));
      }
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    CheckpointIo.local().deleteTree(dir);
  }

  static String read(Path p) throws IOException {
    return Files.readString(p, StandardCharsets.UTF_8);
  }
}
