package io.scoreflow.ckpt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.scoreflow.files.Mutation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Tensor files of a checkpoint that are not safetensors although the manifest vouches for them (a
 * writer with a bug, or a file replaced together with its manifest): the checksums pass, so the
 * decoder is the last line. Decoding goes through the same bounded reader as weights, while the
 * digest is still computed over every byte; a bad file is {@code MALFORMED_TENSORS}, never an
 * engine exception, an allocation of what the header claims, or a crash.
 */
class CheckpointTensorsFuzzTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static Path root;
  private static Path original;
  private static int cases;

  @BeforeContainer
  static void writeOne() throws IOException {
    root = Files.createTempDirectory("ckpt-fuzz");
    try (CheckpointStore store =
        CheckpointStore.builder(root.resolve("source")).clock(Snapshots.CLOCK).open()) {
      original = store.write(Snapshots.of(100)).directory();
    }
  }

  @AfterContainer
  static void delete() throws IOException {
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /**
   * A copy of the checkpoint whose {@code model.safetensors} holds {@code bytes}, with a manifest
   * that vouches for them.
   */
  private static Path withModelFile(byte[] bytes) throws Exception {
    Path dir =
        Files.createDirectories(root.resolve("case-" + cases++).resolve(original.getFileName()));
    try (Stream<Path> files = Files.list(original)) {
      for (Path f : files.toList()) {
        Files.copy(f, dir.resolve(f.getFileName()));
      }
    }
    Files.write(dir.resolve("model.safetensors"), bytes);
    Path manifest = dir.resolve(CheckpointLayout.MANIFEST);
    ObjectNode json = (ObjectNode) JSON.readTree(manifest.toFile());
    ObjectNode entry = (ObjectNode) json.get("files").get("model.safetensors");
    entry.put(
        "sha256", HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)));
    entry.put("size", bytes.length);
    JSON.writerWithDefaultPrettyPrinter().writeValue(manifest.toFile(), json);
    // The manifest's own checksum vouches for the rewritten manifest too (format 2).
    java.nio.file.Files.write(
        dir.resolve(CheckpointLayout.MANIFEST_CHECKSUM),
        ManifestChecksum.of(java.nio.file.Files.readAllBytes(manifest)));
    return dir;
  }

  private static byte[] modelBytes() throws IOException {
    return Files.readAllBytes(original.resolve("model.safetensors"));
  }

  @Property
  void mutatedTensorFilesLoadOrAreMalformedTensors(@ForAll("mutations") List<Mutation> mutations)
      throws Exception {
    Path dir = withModelFile(Mutation.applyAll(mutations, modelBytes()));
    try (NDManager manager = NDManager.newBaseManager()) {
      LoadedCheckpoint loaded = CheckpointReader.loadDirectory(dir, manager);
      for (NDArray t : loaded.group("model")) {
        assertEquals(t.size() * t.getDataType().getNumOfBytes(), t.toByteArray().length);
      }
    } catch (InvalidCheckpointException e) {
      assertEquals(InvalidCheckpointException.Reason.MALFORMED_TENSORS, e.reason(), e.getMessage());
      assertTrue(e.detail().startsWith("model.safetensors"), e.detail());
      assertTrue(!e.getMessage().contains("\n"), e.getMessage());
    } catch (RuntimeException e) {
      fail("loading a checkpoint with a mutated tensor file threw " + e, e);
    }
  }

  @Provide
  Arbitrary<List<Mutation>> mutations() {
    return Mutation.some();
  }

  /** The reported header length, inside a checkpoint whose manifest vouches for it. */
  @Example
  void aHeaderLengthOf2To63Minus1IsMalformedTensorsNamingFileAndLength() throws Exception {
    byte[] bytes = modelBytes();
    System.arraycopy(new byte[] {-1, -1, -1, -1, -1, -1, -1, 0x7F}, 0, bytes, 0, 8);
    Path dir = withModelFile(bytes);
    try (NDManager manager = NDManager.newBaseManager()) {
      InvalidCheckpointException e =
          org.junit.jupiter.api.Assertions.assertThrows(
              InvalidCheckpointException.class, () -> CheckpointReader.loadDirectory(dir, manager));
      assertEquals(InvalidCheckpointException.Reason.MALFORMED_TENSORS, e.reason());
      assertEquals(
          "model.safetensors: not a readable safetensors file: header length 9223372036854775807"
              + " is more than the "
              + (bytes.length - 8)
              + " bytes after it (the file has "
              + bytes.length
              + " bytes)",
          e.detail());
    }
  }

  /**
   * The unchanged file through the same path: the digest computed while decoding covers every byte
   * (a reader that skipped or re-read bytes would be a checksum mismatch here).
   */
  @Example
  void anUnchangedCheckpointLoadsWithItsDigestCheckedWhileDecoding() throws Exception {
    Path dir = withModelFile(modelBytes());
    try (NDManager manager = NDManager.newBaseManager()) {
      LoadedCheckpoint loaded = CheckpointReader.loadDirectory(dir, manager);
      for (HostTensor expected : Snapshots.of(100).groups().get("model")) {
        assertArrayEquals(expected.data(), loaded.tensor("model", expected.name()).toFloatArray());
      }
    }
  }
}
