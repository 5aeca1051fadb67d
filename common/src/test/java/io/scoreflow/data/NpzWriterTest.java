package io.scoreflow.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpzWriterTest {
  @TempDir Path dir;

  @Test
  void streamsBatchesIntoOneArrayPerName() {
    Path file = dir.resolve("samples.npz");
    float[] all = new float[5 * 2 * 3];
    for (int i = 0; i < all.length; i++) {
      all[i] = i * 0.25f - 3;
    }
    try (NpzWriter w = NpzWriter.open(file)) {
      w.begin("samples", 5, 2, 3);
      w.append(all, 0, 12).append(all, 12, 6).append(all, 18, 12);
      w.begin("labels", 5).append(new float[] {0, 1, 2, 3, 4});
    }
    Map<String, Npz.FloatArray> back = Npz.read(file);
    assertArrayEquals(new int[] {5, 2, 3}, back.get("samples").shape());
    assertArrayEquals(all, back.get("samples").data());
    assertArrayEquals(new float[] {0, 1, 2, 3, 4}, back.get("labels").data());
  }

  @Test
  void largerThanOneChunkRoundTrips() {
    Path file = dir.resolve("big.npz");
    float[] batch = new float[40_000];
    try (NpzWriter w = NpzWriter.open(file)) {
      w.begin("x", 3, 40_000);
      for (int b = 0; b < 3; b++) {
        for (int i = 0; i < batch.length; i++) {
          batch[i] = b * 100_000 + i;
        }
        w.append(batch);
      }
    }
    float[] data = Npz.read(file).get("x").data();
    assertEquals(120_000, data.length);
    assertEquals(2 * 100_000 + 39_999, data[119_999]);
  }

  @Test
  void shortOrLongArrayLeavesNoFile() throws IOException {
    Path file = dir.resolve("short.npz");
    NpzWriter w = NpzWriter.open(file).begin("x", 4).append(new float[3]);
    IllegalStateException e = assertThrows(IllegalStateException.class, w::close);
    assertEquals("array 'x' holds 4 values, only 3 came", e.getMessage());
    assertFalse(Files.exists(file));

    Path file2 = dir.resolve("long.npz");
    NpzWriter w2 = NpzWriter.open(file2).begin("x", 2);
    assertThrows(IllegalStateException.class, () -> w2.append(new float[3]));
    w2.close();
    assertFalse(Files.exists(file2));
    try (Stream<Path> left = Files.list(dir)) {
      assertTrue(left.findAny().isEmpty(), "no temporary file left behind");
    }
  }

  @Test
  void namesMustBeNewAndArraysBegun() {
    try (NpzWriter w = NpzWriter.open(dir.resolve("n.npz"))) {
      assertThrows(IllegalStateException.class, () -> w.append(new float[1]));
      w.begin("a", 0);
      assertThrows(IllegalArgumentException.class, () -> w.begin("a", 1));
      assertThrows(IllegalArgumentException.class, () -> w.begin("b/c", 1));
    }
    assertEquals(0, Npz.read(dir.resolve("n.npz")).get("a").data().length);
  }
}
