package io.scoreflow.ckpt;

import ai.djl.ndarray.NDManager;
import io.scoreflow.InvalidInputException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The writer's view of a checkpoint root: it holds the root's lock (one writer per root), removes
 * what an interrupted write left behind when it opens, commits checkpoints, and then applies the
 * retention policy. Reading goes through {@link CheckpointReader}, which needs no store.
 *
 * <pre>{@code
 * try (CheckpointStore store = CheckpointStore.builder(root).retention(RetentionPolicy.keepLast(3)).open();
 *     NDManager manager = NDManager.newBaseManager()) {
 *   Optional<LoadedCheckpoint> resume = store.newestValid(manager);
 *   ...
 *   store.write(CheckpointSnapshot.builder().jobId("cifar10").step(1200).generation(3)
 *       .config(config).dataCursor(new DataCursor(2, 4096)).rng(RngState.of(42))
 *       .group("model", stateDict).build());
 * }
 * }</pre>
 */
public final class CheckpointStore implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CheckpointStore.class);

  private final Path root;
  private final RetentionPolicy retention;
  private final CheckpointIo io;
  private final Clock clock;
  private final CheckpointWriter writer;
  private final CheckpointReader reader;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private boolean closed;

  private CheckpointStore(Builder b, FileChannel lockChannel, FileLock lock) {
    this.root = b.root;
    this.retention = b.retention;
    this.io = b.io;
    this.clock = b.clock;
    long generation = b.generation;
    this.writer =
        new CheckpointWriter(
            b.root,
            b.io,
            b.clock,
            generation == 0 ? () -> {} : () -> requireOwner(b.root, generation));
    this.reader = CheckpointReader.of(b.root);
    this.lockChannel = lockChannel;
    this.lock = lock;
  }

  /** Opens {@code root} with the default retention (keep the last three) on the local disk. */
  public static CheckpointStore open(Path root) {
    return builder(root).open();
  }

  public static Builder builder(Path root) {
    return new Builder(root);
  }

  public Path root() {
    return root;
  }

  public CheckpointReader reader() {
    return reader;
  }

  /**
   * Writes and commits {@code snapshot}, then applies retention. Returns once the checkpoint is
   * durable and {@code LATEST} names it. Checkpoint directories newer than this step (from a line
   * of steps abandoned by resuming an older checkpoint) are moved aside, never deleted.
   *
   * @throws CheckpointWriteException on an I/O error (disk full, permission denied), after removing
   *     the partial checkpoint; earlier checkpoints are intact
   */
  public synchronized CompletedCheckpoint write(CheckpointSnapshot snapshot) {
    if (closed) {
      throw new IllegalStateException("checkpoint store " + root + " is closed");
    }
    long start = System.nanoTime();
    CompletedCheckpoint committed = writer.write(snapshot);
    LOG.info(
        "job {} generation {} step {}: checkpoint committed to {} ({} bytes of tensors, {} ms)",
        snapshot.jobId(),
        snapshot.generation(),
        snapshot.step(),
        committed.directory(),
        snapshot.byteSize(),
        (System.nanoTime() - start) / 1_000_000);
    try {
      afterCommit(snapshot);
    } catch (RuntimeException e) {
      // The checkpoint is committed; failing the write now would tell the caller otherwise.
      LOG.warn(
          "job {} generation {} step {}: housekeeping after the commit failed: {}",
          snapshot.jobId(),
          snapshot.generation(),
          snapshot.step(),
          e.getMessage());
    }
    return committed;
  }

  /**
   * Moves every checkpoint directory of the root (committed or not) and {@code LATEST} into a new
   * folder {@code corrupt-<UTC time>/} of the root, where no reader looks, so that a run whose
   * checkpoints all fail verification can start again at step 0 without destroying them: nothing is
   * deleted, and moving them back restores the root as it was. Only under the writer's lock, so no
   * writer commits meanwhile.
   *
   * @param evidence the search that found none of the committed checkpoints verifying; if the
   *     committed steps differ now (a writer committed or retention deleted since), nothing is
   *     moved
   * @return the folder they are in now
   * @throws InvalidInputException if the committed steps changed since {@code evidence}
   * @throws CheckpointWriteException on an I/O error, naming the path; what was moved stays in the
   *     folder, the rest in place, nothing is lost
   */
  public synchronized Path setAsideUnverifiable(CheckpointSearch.NoneVerifies<?> evidence) {
    if (closed) {
      throw new IllegalStateException("checkpoint store " + root + " is closed");
    }
    List<Long> failed =
        evidence.skipped().stream().map(CheckpointSearch.Skipped::step).sorted().toList();
    List<Long> now = reader.committedSteps();
    if (!now.equals(failed)) {
      throw new InvalidInputException(
          "the checkpoints under "
              + root
              + " changed while they were being verified (steps "
              + failed
              + " failed, the committed steps are now "
              + now
              + "); nothing was moved, run the command again");
    }
    String base =
        CheckpointLayout.CORRUPT_PREFIX
            + java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
                .withZone(java.time.ZoneOffset.UTC)
                .format(clock.instant());
    Path folder = root.resolve(base);
    for (int n = 2; Files.exists(folder, java.nio.file.LinkOption.NOFOLLOW_LINKS); n++) {
      folder = root.resolve(base + "-" + n);
    }
    Path current = folder;
    try {
      io.createDirectory(folder);
      for (long step : reader.steps()) {
        current = root.resolve(CheckpointLayout.directoryName(step));
        io.rename(current, folder.resolve(current.getFileName()));
      }
      current = root.resolve(CheckpointLayout.LATEST);
      if (Files.exists(current, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        io.rename(current, folder.resolve(CheckpointLayout.LATEST));
      }
      current = folder;
      io.syncDirectory(folder);
      current = root;
      io.syncDirectory(root);
    } catch (IOException e) {
      throw new CheckpointWriteException(
          "cannot move the unverifiable checkpoints of "
              + root
              + " into "
              + folder
              + ": "
              + current
              + ": "
              + CheckpointLayout.describe(e)
              + " (what was moved is in "
              + folder
              + ", the rest in place)",
          e);
    }
    LOG.info(
        "Moved {} checkpoint(s) of {} that fail verification into {}", failed.size(), root, folder);
    return folder;
  }

  /** See {@link CheckpointReader#newestValid()}. */
  public Optional<CompletedCheckpoint> newestValid() {
    return reader.newestValid();
  }

  /** See {@link CheckpointReader#newestValid(NDManager)}. */
  public Optional<LoadedCheckpoint> newestValid(NDManager manager) {
    return reader.newestValid(manager);
  }

  /** See {@link CheckpointReader#load(long, NDManager)}. */
  public LoadedCheckpoint load(long step, NDManager manager) {
    return reader.load(step, manager);
  }

  /** See {@link CheckpointReader#committedSteps()}. */
  public List<Long> committedSteps() {
    return reader.committedSteps();
  }

  /** Releases the root's lock. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (lock == null) {
      return;
    }
    try {
      lock.release();
      lockChannel.close();
    } catch (IOException e) {
      LOG.warn("Could not release the lock on {}: {}", root, CheckpointLayout.describe(e));
    }
  }

  /**
   * The generation recorded as the root's owner ({@code .generation}), 0 if none. A distributed
   * run's rank 0 records its ring's generation when it opens the store.
   */
  static long owner(Path root) {
    try {
      return Long.parseLong(
          Files.readString(root.resolve(CheckpointLayout.FENCE), StandardCharsets.UTF_8).strip());
    } catch (java.nio.file.NoSuchFileException e) {
      return 0;
    } catch (IOException | NumberFormatException e) {
      throw new InvalidInputException(
          "cannot read the owner of checkpoint root "
              + root
              + " ("
              + root.resolve(CheckpointLayout.FENCE)
              + "): "
              + e.getMessage());
    }
  }

  /** Refuses to commit for a ring that a newer generation replaced (a stale, woken-up rank 0). */
  private static void requireOwner(Path root, long generation) {
    long owner = owner(root);
    if (owner != generation) {
      throw new IllegalStateException(
          "checkpoint root "
              + root
              + " now belongs to generation "
              + owner
              + " of the run; this writer of generation "
              + generation
              + " is stale and commits nothing");
    }
  }

  private static void recordOwner(Path root, long generation) {
    Path fence = root.resolve(CheckpointLayout.FENCE);
    Path tmp = root.resolve(CheckpointLayout.FENCE + ".tmp");
    try {
      Files.writeString(tmp, generation + "\n", StandardCharsets.UTF_8);
      Files.move(tmp, fence, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new InvalidInputException(
          "cannot record generation " + generation + " as the owner of " + root + ": " + e, e);
    }
  }

  /** Housekeeping once {@code LATEST} names the new checkpoint; failures here only warn. */
  private void afterCommit(CheckpointSnapshot snapshot) {
    long step = snapshot.step();
    for (long newer : reader.steps()) {
      if (newer > step) {
        writer.supersede(root.resolve(CheckpointLayout.directoryName(newer)), snapshot);
      }
    }
    List<Long> committed = reader.steps().stream().filter(s -> s <= step).toList();
    for (long old : retention.toDelete(committed)) {
      if (old == step || !committed.contains(old)) {
        LOG.warn("Retention policy {} asked to delete step {}; ignored", retention, old);
        continue;
      }
      Path dir = root.resolve(CheckpointLayout.directoryName(old));
      if (writer.discard(dir)) {
        LOG.info(
            "job {} generation {} step {}: retention {} deleted {}",
            snapshot.jobId(),
            snapshot.generation(),
            step,
            retention,
            dir);
      }
    }
  }

  /** Removes what a crashed writer left: temporary directories and files, half deletions. */
  private static void removeLeftovers(Path root, CheckpointIo io) {
    List<Path> leftovers;
    try (Stream<Path> children = Files.list(root)) {
      leftovers =
          children.filter(p -> CheckpointLayout.isLeftover(p.getFileName().toString())).toList();
    } catch (IOException e) {
      throw new InvalidInputException(
          "cannot list checkpoint root " + root + ": " + CheckpointLayout.describe(e), e);
    }
    for (Path leftover : leftovers) {
      try {
        io.deleteTree(leftover);
        LOG.info("Removed {}, left by an interrupted checkpoint write", leftover);
      } catch (IOException e) {
        LOG.warn("Could not remove {}: {}", leftover, CheckpointLayout.describe(e));
      }
    }
  }

  /** Options of a store; {@link #open()} validates the root and takes its lock. */
  public static final class Builder {
    private final Path root;
    private RetentionPolicy retention = RetentionPolicy.defaultPolicy();
    private CheckpointIo io = CheckpointIo.local();
    private Clock clock = Clock.systemUTC();
    private long generation;

    private Builder(Path root) {
      this.root = Objects.requireNonNull(root, "root").toAbsolutePath().normalize();
    }

    public Builder retention(RetentionPolicy retention) {
      this.retention = Objects.requireNonNull(retention, "retention");
      return this;
    }

    /**
     * The writer is rank 0 of a distributed run's ring of {@code generation} (≥ 1): it records the
     * generation as the root's owner, takes the root over from a writer of an older generation that
     * still holds the lock (a frozen or cut-off rank 0 the coordinator dropped), refuses to open
     * for an older generation than the owner's, and commits nothing once a newer one owns the root.
     * 0 (the default): one process, the lock alone decides.
     */
    public Builder fencedBy(long generation) {
      if (generation < 0) {
        throw new IllegalArgumentException("generation must be >= 0, got " + generation);
      }
      this.generation = generation;
      return this;
    }

    /** Where writes go; a test seam for failing or crashing I/O. */
    public Builder io(CheckpointIo io) {
      this.io = Objects.requireNonNull(io, "io");
      return this;
    }

    /** The clock of the manifests' creation time. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Creates the root if needed, takes its lock and removes leftovers of interrupted writes.
     *
     * @throws InvalidInputException if the root cannot be created or written, is not a directory,
     *     or another writer holds it
     */
    public CheckpointStore open() {
      try {
        Files.createDirectories(root);
      } catch (IOException e) {
        throw new InvalidInputException(
            "cannot create checkpoint root " + root + ": " + CheckpointLayout.describe(e), e);
      }
      Path lockFile = root.resolve(CheckpointLayout.LOCK);
      FileChannel channel;
      try {
        channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      } catch (IOException e) {
        throw new InvalidInputException(
            "checkpoint root "
                + root
                + " is not writable: cannot create "
                + lockFile
                + ": "
                + CheckpointLayout.describe(e),
            e);
      }
      FileLock lock;
      try {
        lock = channel.tryLock();
      } catch (OverlappingFileLockException | IOException e) {
        lock = null;
      }
      long owner = generation == 0 ? 0 : owner(root);
      if (generation > 0 && owner > generation) {
        closeQuietly(channel);
        throw new InvalidInputException(
            String.format(
                "checkpoint root %s belongs to generation %d of the run; a writer of generation"
                    + " %d is stale",
                root, owner, generation));
      }
      if (lock == null) {
        closeQuietly(channel);
        if (generation == 0 || owner == generation) {
          throw new InvalidInputException(
              "checkpoint root "
                  + root
                  + " is in use by another writer (it holds "
                  + lockFile
                  + ")");
        }
        // The lock's holder is rank 0 of an older ring of this run that was dropped while it
        // still lived (frozen, cut off): a newer generation takes over. The fence recorded below
        // keeps the old writer from committing anything if it ever wakes up.
        LOG.warn(
            "checkpoint root {}: the lock is held by a writer of generation {}; generation {}"
                + " takes over",
            root,
            owner,
            generation);
        channel = null;
      }
      try {
        if (generation > 0) {
          recordOwner(root, generation);
        }
        removeLeftovers(root, io);
        return new CheckpointStore(this, channel, lock);
      } catch (RuntimeException e) {
        if (channel != null) {
          closeQuietly(channel);
        }
        throw e;
      }
    }

    private static void closeQuietly(FileChannel channel) {
      try {
        channel.close();
      } catch (IOException e) {
        // Nothing more to do: the channel was only opened for the lock.
      }
    }
  }
}
