package io.scoreflow.ckpt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoreflow.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Setting aside a root whose checkpoints all fail verification: everything moves, byte for byte,
 * into {@code corrupt-<time>/}, nothing is deleted, and the root reads as empty afterwards.
 */
class CheckpointSetAsideTest {
  @TempDir Path root;

  @BeforeEach
  void threeDamagedCheckpoints() throws IOException {
    try (CheckpointStore store = CheckpointStore.builder(root).clock(Snapshots.CLOCK).open()) {
      store.write(Snapshots.of(100));
      store.write(Snapshots.of(200));
      store.write(Snapshots.of(300));
    }
    for (String step : List.of("step-000000100", "step-000000200", "step-000000300")) {
      CheckpointBitFlipTest.flipBit(root.resolve(step).resolve("model.safetensors"), 700);
    }
  }

  @Test
  void movesEveryCheckpointAndLatestIntoOneFolderByteForByte() throws IOException {
    Map<String, byte[]> before = tree(root);
    CheckpointSearch.NoneVerifies<?> failed =
        assertInstanceOf(
            CheckpointSearch.NoneVerifies.class,
            CheckpointReader.of(root).searchAtMost(Long.MAX_VALUE));
    Path folder;
    try (CheckpointStore store = CheckpointStore.builder(root).clock(Snapshots.CLOCK).open()) {
      folder = store.setAsideUnverifiable(failed);
    }
    assertEquals(root.resolve("corrupt-20250131T120000Z"), folder);
    Map<String, byte[]> moved = tree(folder);
    // Everything but the writer's lock, which stays with the root.
    before.remove(".lock");
    assertEquals(before.keySet(), moved.keySet());
    before.forEach((name, bytes) -> assertArrayEquals(bytes, moved.get(name), name));
    assertEquals(List.of(), CheckpointReader.of(root).committedSteps());
    assertInstanceOf(
        CheckpointSearch.NoCheckpoint.class,
        CheckpointReader.of(root).searchAtMost(Long.MAX_VALUE));

    // A second set-aside in the same second gets a folder of its own.
    try (CheckpointStore store = CheckpointStore.builder(root).clock(Snapshots.CLOCK).open()) {
      store.write(Snapshots.of(100));
    }
    CheckpointBitFlipTest.flipBit(root.resolve("step-000000100/manifest.json"), 9);
    try (CheckpointStore store = CheckpointStore.builder(root).clock(Snapshots.CLOCK).open()) {
      Path second =
          store.setAsideUnverifiable(
              (CheckpointSearch.NoneVerifies<?>) store.reader().searchAtMost(Long.MAX_VALUE));
      assertEquals(root.resolve("corrupt-20250131T120000Z-2"), second);
      assertTrue(Files.isDirectory(second.resolve("step-000000100")));
    }
    assertTrue(Files.isDirectory(folder.resolve("step-000000300")), "the first folder stays");
  }

  @Test
  void refusesWhenTheCommittedCheckpointsChangedSinceTheSearch() throws IOException {
    CheckpointSearch.NoneVerifies<?> failed =
        (CheckpointSearch.NoneVerifies<?>) CheckpointReader.of(root).searchAtMost(Long.MAX_VALUE);
    Map<String, byte[]> before;
    try (CheckpointStore store = CheckpointStore.builder(root).clock(Snapshots.CLOCK).open()) {
      store.write(Snapshots.of(400)); // a writer that committed between search and lock
      before = tree(root);
      InvalidInputException e =
          assertThrows(InvalidInputException.class, () -> store.setAsideUnverifiable(failed));
      assertTrue(
          e.getMessage().contains("steps [100, 200, 300] failed, the committed steps are now"),
          e.getMessage());
      assertTrue(e.getMessage().contains("nothing was moved"), e.getMessage());
    }
    Map<String, byte[]> after = tree(root);
    assertEquals(before.keySet(), after.keySet());
    before.forEach((name, bytes) -> assertArrayEquals(bytes, after.get(name), name));
    assertFalse(Files.exists(root.resolve("corrupt-20250131T120000Z")));
  }

  /** Every regular file under {@code dir}, by relative path, with its bytes. */
  static Map<String, byte[]> tree(Path dir) throws IOException {
    Map<String, byte[]> files = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.filter(Files::isRegularFile).toList()) {
        files.put(dir.relativize(p).toString(), Files.readAllBytes(p));
      }
    }
    return files;
  }
}
