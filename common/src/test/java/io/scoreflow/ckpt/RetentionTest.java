package io.scoreflow.ckpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoreflow.ckpt.FaultyIo.Op;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RetentionTest {
  @TempDir Path root;

  @Test
  void keepLastDeletesTheOldestOnly() {
    assertEquals(
        List.of(1L, 2L), RetentionPolicy.keepLast(3).toDelete(List.of(1L, 2L, 3L, 4L, 5L)));
    assertEquals(List.of(), RetentionPolicy.keepLast(3).toDelete(List.of(1L, 2L)));
    assertEquals(RetentionPolicy.keepLast(3), RetentionPolicy.defaultPolicy());
    assertThrows(IllegalArgumentException.class, () -> RetentionPolicy.keepLast(0));
  }

  @Test
  void storeKeepsTheLastKCompleteCheckpoints() throws IOException {
    try (CheckpointStore store =
        CheckpointStore.builder(root).retention(RetentionPolicy.keepLast(2)).open()) {
      for (long step = 100; step <= 500; step += 100) {
        store.write(Snapshots.of(step));
      }
      assertEquals(List.of(400L, 500L), store.committedSteps());
    }
    assertEquals(List.of(".lock", "LATEST", "step-000000400", "step-000000500"), children());
    CheckpointReader.of(root).verify(400);
    CheckpointReader.of(root).verify(500);
  }

  @Test
  void defaultRetentionKeepsThree() {
    try (CheckpointStore store = CheckpointStore.open(root)) {
      for (long step = 1; step <= 5; step++) {
        store.write(Snapshots.of(step));
      }
      assertEquals(List.of(3L, 4L, 5L), store.committedSteps());
    }
  }

  @Test
  void oldCheckpointsAreDeletedOnlyAfterTheNewOneIsCommitted() {
    FaultyIo io = new FaultyIo();
    try (CheckpointStore store =
        CheckpointStore.builder(root).io(io).retention(RetentionPolicy.keepLast(1)).open()) {
      store.write(Snapshots.of(100));
      store.write(Snapshots.of(200));
    }
    List<FaultyIo.Call> calls = io.calls();
    int latestMoved = lastIndex(calls, Op.RENAME, "LATEST");
    int firstDeletion = -1;
    for (int i = 0; i < calls.size(); i++) {
      if (calls.get(i).path().getFileName().toString().startsWith(".deleting-step-000000100")) {
        firstDeletion = i;
        break;
      }
    }
    assertTrue(firstDeletion > latestMoved, "deleted at " + firstDeletion + ": " + calls);
    assertEquals(List.of(200L), CheckpointReader.of(root).committedSteps());
  }

  @Test
  void aPolicyCannotDeleteTheNewestCheckpoint() {
    RetentionPolicy everything = steps -> steps;
    try (LogCapture log = LogCapture.start();
        CheckpointStore store = CheckpointStore.builder(root).retention(everything).open()) {
      store.write(Snapshots.of(100));
      store.write(Snapshots.of(200));
      assertEquals(List.of(200L), store.committedSteps());
      assertEquals(200, store.newestValid().orElseThrow().step());
      assertEquals(2, log.warnings("asked to delete step").size());
    }
  }

  /**
   * Resuming from an older checkpoint starts a new line of steps: checkpoints of the old line at or
   * after the step being written are moved out of sight (kept, not deleted), so fallback can never
   * mix the two lines.
   */
  @Test
  void resumingFromAnOlderCheckpointSupersedesTheNewerOnes() throws IOException {
    try (CheckpointStore store =
        CheckpointStore.builder(root).retention(RetentionPolicy.keepLast(5)).open()) {
      store.write(Snapshots.of(100));
      store.write(Snapshots.of(200));
      store.write(Snapshots.of(300));
      try (LogCapture log = LogCapture.start()) {
        store.write(Snapshots.builder(200).generation(4).build());
        assertEquals(2, log.warnings("moved", "aside", "abandoned line of steps").size());
      }
      assertEquals(List.of(100L, 200L), store.committedSteps());
      assertEquals(4, store.newestValid().orElseThrow().manifest().generation());
    }
    List<String> names = children();
    assertEquals(
        1, names.stream().filter(n -> n.startsWith(".superseded-step-000000200-")).count());
    assertEquals(
        1, names.stream().filter(n -> n.startsWith(".superseded-step-000000300-")).count());
    // A writer opening the root keeps them (only crash leftovers are removed).
    CheckpointStore.open(root).close();
    assertEquals(names, children());
  }

  private List<String> children() throws IOException {
    try (Stream<Path> children = Files.list(root)) {
      return children.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private static int lastIndex(List<FaultyIo.Call> calls, Op op, String fileName) {
    int found = -1;
    for (int i = 0; i < calls.size(); i++) {
      if (calls.get(i).op() == op
          && calls.get(i).path().getFileName().toString().equals(fileName)) {
        found = i;
      }
    }
    return found;
  }
}
