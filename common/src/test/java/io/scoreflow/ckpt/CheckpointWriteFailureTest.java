package io.scoreflow.ckpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.scoreflow.InvalidInputException;
import io.scoreflow.ckpt.FaultyIo.Op;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failing disks and crashes: the error names the path and the OS error, the earlier checkpoint
 * stays loadable and no half checkpoint remains where a reader would look.
 */
class CheckpointWriteFailureTest {
  @TempDir Path root;

  @Test
  void diskFullWhileWritingTensorsFailsLoudlyAndKeepsTheEarlierCheckpoint() throws IOException {
    writeStep100();
    FaultyIo io =
        new FaultyIo()
            .failWhen(
                call -> call.op() == Op.WRITE && call.path().endsWith("model.safetensors"),
                FaultyIo::diskFull);
    try (CheckpointStore store = CheckpointStore.builder(root).io(io).open()) {
      CheckpointWriteException e =
          assertThrows(CheckpointWriteException.class, () -> store.write(Snapshots.of(200)));
      assertTrue(
          e.getMessage()
              .matches(
                  "cannot write checkpoint step 200 of job cifar10-vp-poly \\(generation 3\\): write "
                      + root
                      + "/\\.tmp-step-000000200-[0-9a-f]{12}/model\\.safetensors failed: No space"
                      + " left on device"),
          e.getMessage());
    }
    assertOnlyStep100Remains();
  }

  @Test
  void diskFullWhileMovingLatestRemovesTheUncommittedDirectory() throws IOException {
    writeStep100();
    FaultyIo io =
        new FaultyIo()
            .failWhen(
                call ->
                    call.op() == Op.CREATE
                        && call.path().getFileName().toString().startsWith(".LATEST.tmp"),
                FaultyIo::diskFull);
    try (CheckpointStore store =
        CheckpointStore.builder(root).io(io).retention(RetentionPolicy.keepLast(1)).open()) {
      CheckpointWriteException e =
          assertThrows(CheckpointWriteException.class, () -> store.write(Snapshots.of(200)));
      assertTrue(e.getMessage().contains("No space left on device"), e.getMessage());
      assertTrue(e.getMessage().contains(root + "/.LATEST.tmp-"), e.getMessage());
    }
    // Retention (keep one) must not have run: the new checkpoint never committed.
    assertOnlyStep100Remains();
  }

  @Test
  void permissionDeniedNamesThePathAndTheReason() throws IOException {
    writeStep100();
    FaultyIo io =
        new FaultyIo()
            .failWhen(
                call -> call.op() == Op.CREATE_DIRECTORY,
                path -> new AccessDeniedException(path.toString()));
    try (CheckpointStore store = CheckpointStore.builder(root).io(io).open()) {
      CheckpointWriteException e =
          assertThrows(CheckpointWriteException.class, () -> store.write(Snapshots.of(200)));
      assertTrue(
          e.getMessage().contains("create directory " + root + "/.tmp-step-000000200-"),
          e.getMessage());
      assertTrue(e.getMessage().endsWith("failed: permission denied"), e.getMessage());
    }
    assertOnlyStep100Remains();
  }

  /**
   * A root the process may not write. Needs a user whom {@code chmod} restricts: root bypasses
   * permission bits, so as root this test is skipped (the injected AccessDeniedException above
   * covers the write path).
   */
  @Test
  void readOnlyRootIsRefusedOnOpen() throws IOException {
    Path readOnly = Files.createDirectory(root.resolve("read-only"));
    Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("r-xr-xr-x"));
    try {
      assumeTrue(
          permissionsEnforced(readOnly),
          "running as root: chmod does not stop this process from writing, so a read-only root"
              + " cannot be simulated here");
      InvalidInputException e =
          assertThrows(InvalidInputException.class, () -> CheckpointStore.open(readOnly));
      assertEquals(
          "checkpoint root "
              + readOnly
              + " is not writable: cannot create "
              + readOnly
              + "/.lock: permission denied",
          e.getMessage());
      Path below = readOnly.resolve("ckpt");
      InvalidInputException create =
          assertThrows(InvalidInputException.class, () -> CheckpointStore.open(below));
      assertEquals(
          "cannot create checkpoint root " + below + ": permission denied", create.getMessage());
    } finally {
      Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
  }

  /**
   * Kills the writer at every I/O operation of a checkpoint in turn (from that operation on nothing
   * reaches the disk, not even cleanup) and checks what the next process finds: the old checkpoint
   * up to the rename of LATEST, the new one after it, never a damaged one, and no leftovers once a
   * writer has opened the root again.
   */
  @Test
  void aCrashAtAnyOperationLeavesTheOldOrTheNewCheckpoint() throws IOException {
    FaultyIo recording = new FaultyIo();
    Path probe = Files.createDirectory(root.resolve("probe"));
    writeStep100(probe);
    try (CheckpointStore store =
        CheckpointStore.builder(probe)
            .io(recording)
            .retention(RetentionPolicy.keepLast(1))
            .open()) {
      store.write(Snapshots.of(200));
    }
    List<FaultyIo.Call> calls = recording.calls();
    int dirRename = indexOf(calls, Op.RENAME, "step-000000200");
    int latestRename = indexOf(calls, Op.RENAME, "LATEST");
    // The fsync of the root that makes the new LATEST durable ends the commit protocol.
    int commitSync = latestRename + 1;
    assertEquals(new FaultyIo.Call(Op.SYNC_DIRECTORY, probe), calls.get(commitSync));
    assertTrue(dirRename < latestRename);
    assertTrue(calls.size() > commitSync + 1, "retention runs after the commit: " + calls);

    for (int crashAt = 0; crashAt < calls.size(); crashAt++) {
      Path run = Files.createDirectory(root.resolve("crash-" + crashAt));
      writeStep100(run);
      try (CheckpointStore store =
          CheckpointStore.builder(run)
              .io(new FaultyIo().crashAt(crashAt))
              .retention(RetentionPolicy.keepLast(1))
              .open()) {
        if (crashAt <= commitSync) {
          assertThrows(CheckpointWriteException.class, () -> store.write(Snapshots.of(200)));
        } else {
          store.write(Snapshots.of(200)); // retention failing only warns: the commit happened
        }
      }
      // Up to the rename of LATEST the old state is what a reader sees; once the rename has
      // happened, the new one (even if the writer died before its fsync and reported failure).
      long expected = crashAt <= latestRename ? 100 : 200;
      String where = "crash at call " + crashAt + " " + calls.get(crashAt);
      try (CheckpointStore reopened = CheckpointStore.open(run)) {
        assertEquals(expected, reopened.newestValid().orElseThrow().step(), where);
        assertEquals(List.of(), hiddenLeftovers(run), where);
        // Training goes on from there: the next write succeeds whatever the crash left.
        reopened.write(Snapshots.of(300));
        assertEquals(300, reopened.newestValid().orElseThrow().step(), where);
      }
    }
  }

  @Test
  void aSecondWriterOnTheSameRootIsRefused() {
    try (CheckpointStore first = CheckpointStore.open(root)) {
      assertEquals(root, first.root());
      InvalidInputException e =
          assertThrows(InvalidInputException.class, () -> CheckpointStore.open(root));
      assertEquals(
          "checkpoint root " + root + " is in use by another writer (it holds " + root + "/.lock)",
          e.getMessage());
      // Readers need no lock.
      assertEquals(List.of(), CheckpointReader.of(root).committedSteps());
    }
    CheckpointStore.open(root).close();
  }

  @Test
  void aNewerGenerationTakesTheRootOverFromAStaleRankZeroThatStillHoldsTheLock() {
    // Generation 1's rank 0 froze with the lock held; the coordinator formed generation 2.
    try (CheckpointStore stale = CheckpointStore.builder(root).fencedBy(1).open()) {
      stale.write(Snapshots.of(100));
      try (CheckpointStore current = CheckpointStore.builder(root).fencedBy(2).open()) {
        current.write(Snapshots.of(110));
        // The stale writer wakes up: it commits nothing, and the newer checkpoint stays the truth.
        IllegalStateException e =
            assertThrows(IllegalStateException.class, () -> stale.write(Snapshots.of(120)));
        assertTrue(e.getMessage().contains("now belongs to generation 2"), e.getMessage());
        assertEquals(List.of(100L, 110L), CheckpointReader.of(root).committedSteps());
        assertEquals(110, CheckpointReader.of(root).newestValid().orElseThrow().step());
        // An older generation cannot open it any more; one process (no fence) still needs the lock.
        InvalidInputException older =
            assertThrows(
                InvalidInputException.class,
                () -> CheckpointStore.builder(root).fencedBy(1).open());
        assertTrue(older.getMessage().contains("belongs to generation 2"), older.getMessage());
        assertThrows(InvalidInputException.class, () -> CheckpointStore.open(root));
        // The same generation twice is two writers of one ring: refused as before.
        assertThrows(
            InvalidInputException.class, () -> CheckpointStore.builder(root).fencedBy(2).open());
      }
    }
  }

  private void writeStep100() {
    writeStep100(root);
  }

  private static void writeStep100(Path where) {
    try (CheckpointStore store = CheckpointStore.open(where)) {
      store.write(Snapshots.of(100));
    }
  }

  private void assertOnlyStep100Remains() throws IOException {
    assertEquals("step-000000100\n", Files.readString(root.resolve("LATEST")));
    try (Stream<Path> children = Files.list(root)) {
      assertEquals(
          List.of(".lock", "LATEST", "step-000000100"),
          children.map(p -> p.getFileName().toString()).sorted().toList());
    }
    CompletedCheckpoint survivor = CheckpointReader.of(root).newestValid().orElseThrow();
    assertEquals(100, survivor.step());
    assertEquals(survivor, CheckpointReader.verifyDirectory(root.resolve("step-000000100")));
    assertFalse(Files.exists(root.resolve("step-000000200")));
  }

  private static List<String> hiddenLeftovers(Path dir) throws IOException {
    try (Stream<Path> children = Files.list(dir)) {
      return children
          .map(p -> p.getFileName().toString())
          .filter(CheckpointLayout::isLeftover)
          .toList();
    }
  }

  private static int indexOf(List<FaultyIo.Call> calls, Op op, String fileName) {
    for (int i = 0; i < calls.size(); i++) {
      if (calls.get(i).op() == op
          && calls.get(i).path().getFileName().toString().equals(fileName)) {
        return i;
      }
    }
    throw new AssertionError("no " + op + " of " + fileName + " in " + calls);
  }

  private static boolean permissionsEnforced(Path readOnly) {
    try {
      Files.delete(Files.createFile(readOnly.resolve("probe")));
      return false;
    } catch (IOException e) {
      return true;
    }
  }
}
