package io.scoreflow.ckpt;

import static io.scoreflow.ckpt.InvalidCheckpointException.Reason.CHECKSUM_MISMATCH;
import static io.scoreflow.ckpt.InvalidCheckpointException.Reason.MANIFEST_CHECKSUM;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * One flipped bit anywhere in a checkpoint, in any of its files (the manifest and its checksum
 * included), makes that checkpoint fail verification with a reason that names what is wrong, and
 * the search for the newest checkpoint then falls back to the previous step, whose tensors load
 * exactly as written.
 */
class CheckpointBitFlipTest {

  /** Every file a checkpoint of {@link Snapshots} consists of. */
  private static final List<String> FILES =
      List.of(
          CheckpointLayout.MANIFEST,
          CheckpointLayout.MANIFEST_CHECKSUM,
          "model.safetensors",
          "ema.safetensors",
          "optimizer.safetensors");

  /** Steps 100 and 200, written once by the real store; each try damages a copy. */
  private static Path pristine;

  @BeforeContainer
  static void writeTwoCheckpoints() throws IOException {
    pristine = Files.createTempDirectory("bitflip-");
    try (CheckpointStore store = CheckpointStore.builder(pristine).clock(Snapshots.CLOCK).open()) {
      store.write(Snapshots.of(100));
      store.write(Snapshots.of(200));
    }
    try (Stream<Path> files = Files.list(pristine.resolve("step-000000200"))) {
      assertEquals(
          FILES.stream().sorted().toList(),
          files.map(p -> p.getFileName().toString()).sorted().toList(),
          "the test flips bits in every file of a checkpoint");
    }
  }

  @AfterContainer
  static void removeThem() throws IOException {
    CheckpointIo.local().deleteTree(pristine);
  }

  @Provide
  Arbitrary<String> files() {
    return Arbitraries.of(FILES);
  }

  @Property
  void aFlippedBitAnywhereFailsVerificationAndTheSearchFallsBack(
      @ForAll("files") String file, @ForAll @LongRange(min = 0, max = Long.MAX_VALUE) long where)
      throws IOException {
    Path root = copyOfPristine();
    try {
      Path step200 = root.resolve("step-000000200");
      long size = Files.size(step200.resolve(file));
      long bit = where % (size * 8);
      flipBit(step200.resolve(file), bit);
      assertFailsAndFallsBack(root, file);
    } finally {
      CheckpointIo.local().deleteTree(root);
    }
  }

  /**
   * Found by design review, before manifests had a checksum: a flipped bit in the manifest's format
   * digit ('2' to '3') read as "written by another version", which stops the search (it never falls
   * back past another format). The checksum is now checked before the manifest is believed in
   * anything, so it is a checksum failure and the search falls back.
   */
  @Example
  void aFlippedBitInTheFormatDigitIsDamageNotAnotherFormat() throws IOException {
    Path root = copyOfPristine();
    try {
      Path manifest = root.resolve("step-000000200").resolve(CheckpointLayout.MANIFEST);
      String text = Files.readString(manifest, StandardCharsets.UTF_8);
      int digit = text.indexOf("\"format\" : 2") + "\"format\" : ".length();
      flipBit(manifest, digit * 8L); // bit 0 of '2' (0x32): '3'
      assertTrue(Files.readString(manifest).contains("\"format\" : 3"));
      assertFailsAndFallsBack(root, CheckpointLayout.MANIFEST);
    } finally {
      CheckpointIo.local().deleteTree(root);
    }
  }

  /** The checksum file's last byte is its newline: a flip there must fail too (strict parsing). */
  @Example
  void aFlippedBitInTheChecksumFilesNewlineFails() throws IOException {
    Path root = copyOfPristine();
    try {
      Path checksum = root.resolve("step-000000200").resolve(CheckpointLayout.MANIFEST_CHECKSUM);
      flipBit(checksum, Files.size(checksum) * 8 - 1);
      assertFailsAndFallsBack(root, CheckpointLayout.MANIFEST_CHECKSUM);
    } finally {
      CheckpointIo.local().deleteTree(root);
    }
  }

  private static void assertFailsAndFallsBack(Path root, String file) {
    Path step200 = root.resolve("step-000000200");
    InvalidCheckpointException e =
        assertThrows(
            InvalidCheckpointException.class, () -> CheckpointReader.verifyDirectory(step200));
    boolean manifest = file.startsWith("manifest.");
    assertEquals(manifest ? MANIFEST_CHECKSUM : CHECKSUM_MISMATCH, e.reason(), e.getMessage());
    assertTrue(
        e.detail().startsWith(manifest ? "manifest." : file),
        "names the file at fault: " + e.getMessage());
    CheckpointReader reader = CheckpointReader.of(root);
    try (NDManager manager = NDManager.newBaseManager()) {
      assertThrows(InvalidCheckpointException.class, () -> reader.load(200, manager));
      CheckpointSearch<LoadedCheckpoint> search = reader.search(manager);
      CheckpointSearch.Found<LoadedCheckpoint> found =
          assertInstanceOf(CheckpointSearch.Found.class, search);
      assertEquals(100, found.checkpoint().step());
      assertEquals(List.of(200L), found.skipped().stream().map(s -> s.step()).toList());
      assertEquals(e.reason(), found.skipped().get(0).failure().reason());
      for (var group : Snapshots.of(100).groups().entrySet()) {
        for (HostTensor expected : group.getValue()) {
          assertArrayEquals(
              expected.data(),
              found.checkpoint().tensor(group.getKey(), expected.name()).toFloatArray());
        }
      }
    }
    assertEquals(100, reader.newestValid().orElseThrow().step());
  }

  private static Path copyOfPristine() throws IOException {
    Path root = Files.createTempDirectory("bitflip-try-");
    try (Stream<Path> tree = Files.walk(pristine)) {
      for (Path from : tree.toList()) {
        Path to = root.resolve(pristine.relativize(from).toString());
        if (Files.isDirectory(from)) {
          Files.createDirectories(to);
        } else {
          Files.copy(from, to);
        }
      }
    }
    return root;
  }

  static void flipBit(Path file, long bit) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    bytes[(int) (bit / 8)] ^= (byte) (1 << (bit % 8));
    Files.write(file, bytes);
  }
}
