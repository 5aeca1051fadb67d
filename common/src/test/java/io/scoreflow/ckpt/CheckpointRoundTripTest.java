package io.scoreflow.ckpt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.scoreflow.data.DataCursor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointRoundTripTest {
  @TempDir Path root;

  @Test
  void tensorsAndManifestSurviveARoundTripThroughDjl() throws Exception {
    try (NDManager manager = NDManager.newBaseManager()) {
      Map<String, NDArray> model = new LinkedHashMap<>();
      model.put("all_modules.0.weight", manager.randomNormal(new Shape(8, 3, 3, 3)));
      model.put("all_modules.0.bias", manager.arange(8f));
      model.put("all_modules.3.GroupNorm_0.scale", manager.create(1.5f));
      Map<String, NDArray> ema =
          Map.of("all_modules.0.weight", manager.ones(new Shape(8, 3, 3, 3)));
      CheckpointSnapshot snapshot =
          CheckpointSnapshot.builder()
              .jobId("cifar10-ddpmpp")
              .step(1200)
              .generation(7)
              .config(Snapshots.CONFIG)
              .dataCursor(new DataCursor(3, 4096))
              .rng(new RngState(-17, Map.of("torch.offset", "99", "numpy", "AAEC")))
              .group("model", model)
              .group("ema", ema)
              .build();
      // The snapshot is a copy: changing the live parameters afterwards does not reach it.
      model.get("all_modules.0.bias").addi(100f);

      CompletedCheckpoint written;
      try (CheckpointStore store = CheckpointStore.builder(root).clock(Snapshots.CLOCK).open()) {
        written = store.write(snapshot);
      }
      assertEquals(root.resolve("step-000001200"), written.directory());
      assertEquals("step-000001200\n", Files.readString(root.resolve("LATEST")));

      try (NDManager loadInto = NDManager.newBaseManager()) {
        LoadedCheckpoint loaded = CheckpointReader.of(root).newestValid(loadInto).orElseThrow();
        CheckpointManifest m = loaded.manifest();
        assertEquals(CheckpointManifest.FORMAT_VERSION, m.formatVersion());
        assertEquals("cifar10-ddpmpp", m.jobId());
        assertEquals(1200, m.step());
        assertEquals(7, m.generation());
        assertEquals(Snapshots.CONFIG, m.config());
        assertEquals(new DataCursor(3, 4096), m.dataCursor());
        assertEquals(new RngState(-17, Map.of("torch.offset", "99", "numpy", "AAEC")), m.rng());
        assertEquals(Snapshots.CLOCK.instant(), m.createdAt());
        assertEquals(List.of("model", "ema"), m.groups());
        assertEquals(written.manifest(), m);

        for (HostTensor expected : snapshot.groups().get("model")) {
          NDArray actual = loaded.tensor("model", expected.name());
          assertEquals(loadInto, actual.getManager());
          assertEquals(DataType.FLOAT32, actual.getDataType());
          assertEquals(new Shape(expected.shape()), actual.getShape());
          assertArrayEquals(expected.data(), actual.toFloatArray());
        }
        assertArrayEquals(
            new float[] {0, 1, 2, 3, 4, 5, 6, 7},
            loaded.tensor("model", "all_modules.0.bias").toFloatArray());
        assertEquals(
            new Shape(), loaded.tensor("model", "all_modules.3.GroupNorm_0.scale").getShape());
        assertArrayEquals(
            ema.get("all_modules.0.weight").toFloatArray(),
            loaded.tensor("ema", "all_modules.0.weight").toFloatArray());
        assertThrows(IllegalArgumentException.class, () -> loaded.tensor("model", "nope"));
        assertThrows(IllegalArgumentException.class, () -> loaded.group("optimizer"));
      }
    }
  }

  /** Tensors larger than the writer's 1 MiB buffer are written in several chunks. */
  @Test
  void tensorsSpanningSeveralWriteChunksRoundTrip() {
    float[] big = new float[600_001];
    for (int i = 0; i < big.length; i++) {
      big[i] = (float) Math.sin(i);
    }
    CheckpointSnapshot snapshot =
        Snapshots.builder(7)
            .group(
                "big",
                List.of(
                    Snapshots.tensor("small", 1f, 3),
                    new HostTensor("conv.weight", new long[] {600_001}, big),
                    Snapshots.tensor("after", 2f, 5)))
            .build();
    try (CheckpointStore store = CheckpointStore.open(root);
        NDManager manager = NDManager.newBaseManager()) {
      store.write(snapshot);
      LoadedCheckpoint loaded = store.load(7, manager);
      assertArrayEquals(big, loaded.tensor("big", "conv.weight").toFloatArray());
      assertArrayEquals(
          Snapshots.tensor("after", 2f, 5).data(), loaded.tensor("big", "after").toFloatArray());
      assertArrayEquals(
          Snapshots.tensor("small", 1f, 3).data(), loaded.tensor("big", "small").toFloatArray());
    }
  }

  @Test
  void manifestRecordsSizeAndSha256OfEveryFile() throws Exception {
    try (CheckpointStore store = CheckpointStore.builder(root).clock(Snapshots.CLOCK).open()) {
      store.write(Snapshots.of(100));
    }
    Path dir = root.resolve("step-000000100");
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(
          List.of(
              "ema.safetensors",
              "manifest.json",
              "manifest.sha256",
              "model.safetensors",
              "optimizer.safetensors"),
          files.map(p -> p.getFileName().toString()).sorted().toList());
    }
    // The manifest's own checksum, in sha256sum's line format (so `sha256sum -c` checks it).
    byte[] manifestBytes = Files.readAllBytes(dir.resolve("manifest.json"));
    assertEquals(
        HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(manifestBytes))
            + "  manifest.json\n",
        Files.readString(dir.resolve("manifest.sha256")));
    JsonNode manifest = new ObjectMapper().readTree(manifestBytes);
    assertEquals(2, manifest.get("format").asInt());
    assertEquals(Snapshots.JOB, manifest.get("jobId").asText());
    assertEquals("2025-01-31T12:00:00Z", manifest.get("createdAt").asText());
    assertEquals(3, manifest.get("files").size());
    for (String file : List.of("model.safetensors", "ema.safetensors", "optimizer.safetensors")) {
      byte[] bytes = Files.readAllBytes(dir.resolve(file));
      JsonNode entry = manifest.get("files").get(file);
      assertEquals(bytes.length, entry.get("size").asLong());
      assertEquals(
          HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)),
          entry.get("sha256").asText());
    }
  }

  /** The files follow the safetensors layout, so other readers (PyTorch's) can load them. */
  @Test
  void tensorFilesFollowTheSafetensorsLayout() throws Exception {
    try (CheckpointStore store = CheckpointStore.open(root)) {
      store.write(Snapshots.of(100));
    }
    byte[] bytes = Files.readAllBytes(root.resolve("step-000000100/model.safetensors"));
    ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    long headerLength = buffer.getLong();
    assertEquals(0, headerLength % 8, "header padded to 8 bytes");
    String headerText = new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8);
    JsonNode header = new ObjectMapper().readTree(headerText);
    long dataLength = bytes.length - 8 - headerLength;
    long expectedOffset = 0;
    for (HostTensor t : Snapshots.of(100).groups().get("model")) {
      JsonNode entry = header.get(t.name());
      assertEquals("F32", entry.get("dtype").asText());
      assertEquals(t.shape().length, entry.get("shape").size());
      assertEquals(expectedOffset, entry.get("data_offsets").get(0).asLong());
      expectedOffset += t.byteSize();
      assertEquals(expectedOffset, entry.get("data_offsets").get(1).asLong());
      ByteBuffer data =
          ByteBuffer.wrap(
                  bytes,
                  (int) (8 + headerLength + entry.get("data_offsets").get(0).asLong()),
                  (int) t.byteSize())
              .order(ByteOrder.LITTLE_ENDIAN);
      for (float value : t.data()) {
        assertEquals(value, data.getFloat());
      }
    }
    assertEquals(expectedOffset, dataLength, "data section holds exactly the tensors");
  }

  @Test
  void snapshotRefusesWhatCannotBeCheckpointed() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray ints = manager.arange(4);
      assertEquals(DataType.INT32, ints.getDataType());
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> Snapshots.builder(1).group("steps", Map.of("count", ints)));
      assertTrue(e.getMessage().contains("must be float32"), e.getMessage());
      NDList unnamed = new NDList(manager.ones(new Shape(2)));
      assertThrows(IllegalArgumentException.class, () -> Snapshots.builder(1).group("x", unnamed));
    }
    assertThrows(
        IllegalArgumentException.class,
        () -> Snapshots.builder(1).group("model", List.of()).build(),
        "group added twice");
    IllegalArgumentException missing =
        assertThrows(
            IllegalArgumentException.class,
            () -> CheckpointSnapshot.builder().jobId("j").step(1).generation(0).build());
    assertEquals("config must be set (an empty string if there is none)", missing.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> Snapshots.builder(1).group("../evil", List.of()).build());
    assertThrows(
        IllegalArgumentException.class,
        () ->
            Snapshots.builder(1)
                .group("dup", List.of(Snapshots.tensor("a", 0, 2), Snapshots.tensor("a", 1, 2)))
                .build());
    assertThrows(
        IllegalArgumentException.class, () -> new HostTensor("w", new long[] {2, 3}, new float[5]));
  }
}
