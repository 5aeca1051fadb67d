package io.scoreflow.ckpt;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes checkpoints on one background thread so that training waits only for the heap copy of its
 * tensors ({@link CheckpointSnapshot.Builder}), not for the disk.
 *
 * <p>Writes happen one at a time, in the order submitted, and steps must increase. At most one
 * write is in flight and {@code queueCapacity} more wait; each waiting snapshot holds a full copy
 * of the tensors, so the bound is what keeps memory flat when the disk is slower than training.
 * When it is reached, {@link #submit} blocks and {@link #trySubmit} says no, and the caller decides
 * (wait, or skip this checkpoint).
 *
 * <p>A failed write fails its own future and is logged; later writes still run, since the next
 * checkpoint may well succeed (a transient disk-full, say). Futures complete on the writer thread:
 * chain heavy work with the {@code …Async} variants.
 */
public final class AsyncCheckpointWriter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AsyncCheckpointWriter.class);

  private final CheckpointStore store;
  private final int queueCapacity;
  private final Semaphore slots;
  private final ExecutorService thread;
  // Held while a submitter waits for a slot, so that concurrent submitters enqueue in step order.
  private final ReentrantLock submitLock = new ReentrantLock(true);
  private long lastStep = -1;
  private boolean closed;

  private AsyncCheckpointWriter(CheckpointStore store, int queueCapacity) {
    this.store = store;
    this.queueCapacity = queueCapacity;
    this.slots = new Semaphore(queueCapacity + 1);
    // A daemon thread, so a forgotten close() cannot keep the JVM alive; close() drains the queue.
    this.thread =
        Executors.newSingleThreadExecutor(
            runnable -> {
              Thread t = new Thread(runnable, "checkpoint-writer " + store.root());
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * @param queueCapacity snapshots that may wait behind the one being written (0: none)
   */
  public static AsyncCheckpointWriter create(CheckpointStore store, int queueCapacity) {
    if (queueCapacity < 0) {
      throw new IllegalArgumentException("queue capacity must be >= 0, got " + queueCapacity);
    }
    return new AsyncCheckpointWriter(store, queueCapacity);
  }

  /**
   * Queues {@code snapshot}, blocking while the queue is full.
   *
   * @return completes with the committed checkpoint, or exceptionally with the write's failure
   * @throws IllegalArgumentException if the step is not after the last submitted one
   */
  public CompletableFuture<CompletedCheckpoint> submit(CheckpointSnapshot snapshot)
      throws InterruptedException {
    submitLock.lockInterruptibly();
    try {
      checkAccepts(snapshot);
      if (!slots.tryAcquire()) {
        LOG.warn(
            "job {} generation {} step {}: checkpoint writes are behind ({} queued); waiting",
            snapshot.jobId(),
            snapshot.generation(),
            snapshot.step(),
            queueCapacity);
        slots.acquire();
      }
      return enqueue(snapshot);
    } finally {
      submitLock.unlock();
    }
  }

  /**
   * Queues {@code snapshot} if a place frees up within {@code timeout}.
   *
   * @return empty if the queue stayed full: the writes are behind and the snapshot was not taken
   */
  public Optional<CompletableFuture<CompletedCheckpoint>> trySubmit(
      CheckpointSnapshot snapshot, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    if (!submitLock.tryLock(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
      return Optional.empty();
    }
    try {
      checkAccepts(snapshot);
      if (!slots.tryAcquire(deadline - System.nanoTime(), TimeUnit.NANOSECONDS)) {
        LOG.warn(
            "job {} generation {} step {}: checkpoint writes are behind ({} queued); not queued",
            snapshot.jobId(),
            snapshot.generation(),
            snapshot.step(),
            queueCapacity);
        return Optional.empty();
      }
      return Optional.of(enqueue(snapshot));
    } finally {
      submitLock.unlock();
    }
  }

  /** Snapshots submitted and not yet written (in flight or queued). */
  public int pending() {
    return queueCapacity + 1 - slots.availablePermits();
  }

  /** Stops accepting snapshots and waits until every queued one is written. Idempotent. */
  @Override
  public void close() {
    submitLock.lock();
    try {
      closed = true;
    } finally {
      submitLock.unlock();
    }
    thread.shutdown();
    boolean interrupted = false;
    while (true) {
      try {
        if (thread.awaitTermination(1, TimeUnit.MINUTES)) {
          break;
        }
        LOG.info("Waiting for {} checkpoint write(s) to {} to finish", pending(), store.root());
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private void checkAccepts(CheckpointSnapshot snapshot) {
    if (closed) {
      throw new IllegalStateException("asynchronous checkpoint writer is closed");
    }
    if (snapshot.step() <= lastStep) {
      throw new IllegalArgumentException(
          "checkpoint step "
              + snapshot.step()
              + " is not after the last submitted step "
              + lastStep
              + ": checkpoints are written in step order");
    }
  }

  private CompletableFuture<CompletedCheckpoint> enqueue(CheckpointSnapshot snapshot) {
    lastStep = snapshot.step();
    CompletableFuture<CompletedCheckpoint> result = new CompletableFuture<>();
    thread.execute(() -> write(snapshot, result));
    return result;
  }

  private void write(CheckpointSnapshot snapshot, CompletableFuture<CompletedCheckpoint> result) {
    CompletedCheckpoint committed = null;
    Throwable failure = null;
    try {
      committed = store.write(snapshot);
    } catch (RuntimeException | Error e) {
      failure = e;
      LOG.error(
          "job {} generation {} step {}: checkpoint write failed: {}",
          snapshot.jobId(),
          snapshot.generation(),
          snapshot.step(),
          e.getMessage());
    } finally {
      // Free the slot before completing, so a caller that waits on the future can submit at once.
      slots.release();
    }
    if (failure == null) {
      result.complete(committed);
    } else {
      result.completeExceptionally(failure);
    }
  }
}
