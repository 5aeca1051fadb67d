package io.scoreflow.ckpt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.scoreflow.coordinator.ckpt.CheckpointServer;
import io.scoreflow.data.DataCursor;
import io.scoreflow.worker.ckpt.CheckpointFetcher;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The checkpoint service over gRPC's in-process transport, on real checkpoints written by the
 * store: byte-identical transfer in many chunks, the status codes of bad requests, and damage
 * caught on the server before anything is sent.
 */
class CheckpointServiceTest {

  private static final String JOB = "svc-test";

  @TempDir Path dir;
  private CheckpointServer server;
  private ManagedChannel channel;
  private CheckpointFetcher fetcher;

  @BeforeEach
  void start() throws Exception {
    String name = InProcessServerBuilder.generateName();
    server =
        CheckpointServer.start(
            InProcessServerBuilder.forName(name).directExecutor(), JOB, dir.resolve("ckpt"));
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    fetcher = new CheckpointFetcher(channel, Duration.ofSeconds(60));
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow();
    server.close();
  }

  /** A checkpoint of a few MiB, so the default 1 MiB chunks cut every group file several times. */
  private CompletedCheckpoint write(long step) {
    float[] big = new float[900_000];
    for (int i = 0; i < big.length; i++) {
      big[i] = (float) Math.sin(i * 0.001 + step);
    }
    try (CheckpointStore store = CheckpointStore.open(dir.resolve("ckpt"))) {
      return store.write(
          CheckpointSnapshot.builder()
              .jobId(JOB)
              .step(step)
              .generation(2)
              .config("scoreflow { job.name = svc-test }")
              .dataCursor(new DataCursor(0, 0))
              .rng(new RngState(1, Map.of()))
              .group("model", List.of(new HostTensor("w", new long[] {big.length}, big)))
              .group("ema", List.of(new HostTensor("w", new long[] {3}, new float[] {1, 2, 3})))
              .build());
    }
  }

  @Test
  void fetchesAByteIdenticalVerifiedCopy() throws Exception {
    CompletedCheckpoint original = write(40);
    assertEquals(OptionalLong.of(40), fetcher.newest(JOB));
    CompletedCheckpoint copy = fetcher.fetch(JOB, 40, dir.resolve("local"));
    assertEquals(40, copy.step());
    assertEquals(original.manifest().files(), copy.manifest().files());
    for (String file :
        Stream.concat(
                Stream.of("manifest.json", "manifest.sha256"),
                original.manifest().files().keySet().stream())
            .toList()) {
      assertArrayEquals(
          Files.readAllBytes(original.directory().resolve(file)),
          Files.readAllBytes(copy.directory().resolve(file)),
          file);
    }
    try (Stream<Path> left = Files.list(dir.resolve("local"))) {
      assertEquals(List.of("step-000000040"), left.map(p -> p.getFileName().toString()).toList());
    }
  }

  @Test
  void unknownStepIsNotFound() {
    write(40);
    CheckpointFetcher.FetchException e =
        assertThrows(
            CheckpointFetcher.FetchException.class,
            () -> fetcher.fetch(JOB, 41, dir.resolve("local")));
    assertEquals(Status.Code.NOT_FOUND, e.code());
    assertTrue(e.getMessage().contains("no checkpoint for step 41"), e.getMessage());
    assertFalse(Files.exists(dir.resolve("local").resolve("step-000000041")));
  }

  @Test
  void anotherJobIsNotFoundAndANegativeStepInvalid() {
    write(40);
    assertEquals(
        Status.Code.NOT_FOUND,
        assertThrows(
                CheckpointFetcher.FetchException.class,
                () -> fetcher.fetch("other-job", 40, dir.resolve("local")))
            .code());
    assertEquals(
        Status.Code.INVALID_ARGUMENT,
        assertThrows(
                CheckpointFetcher.FetchException.class,
                () -> fetcher.fetch(JOB, -1, dir.resolve("local")))
            .code());
  }

  @Test
  void aDamagedCheckpointIsDataLossAndNothingIsLeftBehind() throws Exception {
    CompletedCheckpoint original = write(40);
    try (RandomAccessFile f =
        new RandomAccessFile(original.directory().resolve("model.safetensors").toFile(), "rw")) {
      f.seek(f.length() - 5);
      f.write(0x7f);
    }
    CheckpointFetcher.FetchException e =
        assertThrows(
            CheckpointFetcher.FetchException.class,
            () -> fetcher.fetch(JOB, 40, dir.resolve("local")));
    assertEquals(Status.Code.DATA_LOSS, e.code());
    try (Stream<Path> left = Files.list(dir.resolve("local"))) {
      assertEquals(0, left.count(), "a failed fetch leaves nothing");
    }
  }

  @Test
  void aDeadlineThatPassesEndsTheFetch() {
    write(40);
    CheckpointFetcher hasty = new CheckpointFetcher(channel, Duration.ofNanos(1));
    assertEquals(
        Status.Code.DEADLINE_EXCEEDED,
        assertThrows(
                CheckpointFetcher.FetchException.class,
                () -> hasty.fetch(JOB, 40, dir.resolve("local")))
            .code());
  }
}
