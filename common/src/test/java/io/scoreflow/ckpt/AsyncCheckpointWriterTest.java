package io.scoreflow.ckpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoreflow.ckpt.FaultyIo.Op;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AsyncCheckpointWriterTest {
  @TempDir Path root;

  @Test
  void writesHappenInStepOrder() throws Exception {
    FaultyIo io = new FaultyIo();
    List<CompletableFuture<CompletedCheckpoint>> futures = new ArrayList<>();
    try (CheckpointStore store =
            CheckpointStore.builder(root).io(io).retention(RetentionPolicy.keepLast(10)).open();
        AsyncCheckpointWriter writer = AsyncCheckpointWriter.create(store, 2)) {
      for (long step = 10; step <= 60; step += 10) {
        futures.add(writer.submit(Snapshots.of(step)));
      }
      for (int i = 0; i < futures.size(); i++) {
        assertEquals(10L * (i + 1), futures.get(i).get().step());
      }
      assertEquals(List.of(10L, 20L, 30L, 40L, 50L, 60L), store.committedSteps());
      assertEquals(60, store.newestValid().orElseThrow().step());
    }
    List<String> started =
        io.calls().stream()
            .filter(c -> c.op() == Op.CREATE_DIRECTORY)
            .map(c -> c.path().getFileName().toString().substring(5, 19))
            .toList();
    assertEquals(
        List.of(
            "step-000000010",
            "step-000000020",
            "step-000000030",
            "step-000000040",
            "step-000000050",
            "step-000000060"),
        started);
  }

  @Test
  void aFullQueueMakesTheCallerWaitOrSaysNo() throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    CountDownLatch entered = new CountDownLatch(1);
    FaultyIo io = new FaultyIo().gateDirectories(gate, entered);
    try (CheckpointStore store = CheckpointStore.builder(root).io(io).open();
        AsyncCheckpointWriter writer = AsyncCheckpointWriter.create(store, 1)) {
      CompletableFuture<CompletedCheckpoint> first = writer.submit(Snapshots.of(1));
      assertTrue(entered.await(10, TimeUnit.SECONDS), "the first write started");
      CompletableFuture<CompletedCheckpoint> second = writer.submit(Snapshots.of(2)); // queued
      assertEquals(2, writer.pending());

      // One in flight, one queued: the third is refused, not buffered.
      assertEquals(
          java.util.Optional.empty(), writer.trySubmit(Snapshots.of(3), Duration.ofMillis(20)));

      AtomicReference<CompletableFuture<CompletedCheckpoint>> third = new AtomicReference<>();
      Thread trainer =
          new Thread(
              () -> {
                try {
                  third.set(writer.submit(Snapshots.of(3)));
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              });
      trainer.start();
      awaitBlocked(trainer);
      assertEquals(null, third.get(), "submit blocks while the queue is full");
      assertFalse(first.isDone());

      gate.countDown();
      trainer.join(TimeUnit.SECONDS.toMillis(30));
      assertEquals(1, first.get().step());
      assertEquals(2, second.get().step());
      assertEquals(3, third.get().get().step());
      assertEquals(List.of(1L, 2L, 3L), store.committedSteps());
    }
  }

  @Test
  void stepsMustIncrease() throws Exception {
    try (CheckpointStore store = CheckpointStore.open(root);
        AsyncCheckpointWriter writer = AsyncCheckpointWriter.create(store, 1)) {
      writer.submit(Snapshots.of(5)).get();
      IllegalArgumentException same =
          assertThrows(IllegalArgumentException.class, () -> writer.submit(Snapshots.of(5)));
      assertEquals(
          "checkpoint step 5 is not after the last submitted step 5: checkpoints are written in"
              + " step order",
          same.getMessage());
      assertThrows(IllegalArgumentException.class, () -> writer.submit(Snapshots.of(4)));
      assertEquals(6, writer.submit(Snapshots.of(6)).get().step());
    }
  }

  @Test
  void aFailedWriteFailsItsFutureAndLaterWritesGoOn() throws Exception {
    FaultyIo io =
        new FaultyIo()
            .failWhen(
                call ->
                    call.op() == Op.CREATE_DIRECTORY
                        && call.path().getFileName().toString().contains("step-000000002"),
                FaultyIo::diskFull);
    try (CheckpointStore store = CheckpointStore.builder(root).io(io).open();
        AsyncCheckpointWriter writer = AsyncCheckpointWriter.create(store, 3)) {
      CompletableFuture<CompletedCheckpoint> one = writer.submit(Snapshots.of(1));
      CompletableFuture<CompletedCheckpoint> two = writer.submit(Snapshots.of(2));
      CompletableFuture<CompletedCheckpoint> three = writer.submit(Snapshots.of(3));
      ExecutionException failure = assertThrows(ExecutionException.class, two::get);
      assertInstanceOf(CheckpointWriteException.class, failure.getCause());
      assertTrue(failure.getCause().getMessage().contains("No space left on device"));
      assertEquals(1, one.get().step());
      assertEquals(3, three.get().step());
      assertEquals(List.of(1L, 3L), store.committedSteps());
    }
  }

  @Test
  void closeWaitsForQueuedWritesAndThenRefusesMore() throws Exception {
    List<CompletableFuture<CompletedCheckpoint>> futures = new ArrayList<>();
    try (CheckpointStore store = CheckpointStore.open(root)) {
      AsyncCheckpointWriter writer = AsyncCheckpointWriter.create(store, 3);
      for (long step = 1; step <= 4; step++) {
        futures.add(writer.submit(Snapshots.of(step)));
      }
      writer.close();
      assertTrue(futures.stream().allMatch(f -> f.isDone() && !f.isCompletedExceptionally()));
      assertEquals(0, writer.pending());
      assertThrows(IllegalStateException.class, () -> writer.submit(Snapshots.of(9)));
      writer.close(); // idempotent
      assertEquals(4, store.newestValid().orElseThrow().step());
    }
  }

  private static void awaitBlocked(Thread thread) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (thread.getState() != Thread.State.WAITING
        && thread.getState() != Thread.State.TIMED_WAITING) {
      assertTrue(System.nanoTime() < deadline, "thread never blocked: " + thread.getState());
      Thread.sleep(1);
    }
  }
}
