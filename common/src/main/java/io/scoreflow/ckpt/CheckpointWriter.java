package io.scoreflow.ckpt;

import io.scoreflow.ckpt.CheckpointIo.WritableFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The commit protocol for one checkpoint. Each step is ordered so that a crash between any two
 * leaves either the previous committed state or the new one:
 *
 * <ol>
 *   <li>write every file into a hidden temporary directory (the tensors, then {@code
 *       manifest.json}, then {@code manifest.sha256}), fsync each, fsync the directory;
 *   <li>rename it to {@code step-NNNNNNNNN}, fsync the root (the directory is complete, but not yet
 *       committed: readers ignore directories newer than {@code LATEST});
 *   <li>write {@code LATEST} to a temporary file, fsync, rename over {@code LATEST}, fsync the root
 *       (the commit).
 * </ol>
 *
 * <p>On an I/O error the writer removes what it created and throws; earlier checkpoints are never
 * touched, because nothing before the commit writes outside the new checkpoint's own names.
 */
final class CheckpointWriter {
  private static final Logger LOG = LoggerFactory.getLogger(CheckpointWriter.class);

  private final Path root;
  private final CheckpointIo io;
  private final Clock clock;
  private final Runnable beforeCommit;

  CheckpointWriter(Path root, CheckpointIo io, Clock clock) {
    this(root, io, clock, () -> {});
  }

  /**
   * As above; {@code beforeCommit} runs once a checkpoint is complete in its temporary directory,
   * just before it is renamed into sight, and may refuse the commit by throwing (the temporary
   * directory is then removed).
   */
  CheckpointWriter(Path root, CheckpointIo io, Clock clock, Runnable beforeCommit) {
    this.root = root;
    this.io = io;
    this.clock = clock;
    this.beforeCommit = beforeCommit;
  }

  /** An I/O failure with the path and the operation it happened in. */
  private static final class Failure extends Exception {
    private static final long serialVersionUID = 1L;
    final transient Path path;
    final String operation;

    Failure(Path path, String operation, IOException cause) {
      super(cause);
      this.path = path;
      this.operation = operation;
    }

    IOException io() {
      return (IOException) getCause();
    }
  }

  @FunctionalInterface
  private interface IoAction {
    void run() throws IOException;
  }

  @FunctionalInterface
  private interface Body {
    void write(HashingOutput out) throws IOException;
  }

  CompletedCheckpoint write(CheckpointSnapshot snapshot) {
    String name = CheckpointLayout.directoryName(snapshot.step());
    Path target = root.resolve(name);
    Path written = root.resolve(CheckpointLayout.hidden(CheckpointLayout.TMP_PREFIX, name));
    CheckpointManifest manifest;
    try {
      Path tmp = written;
      run(tmp, "create directory", () -> io.createDirectory(tmp));
      Map<String, FileDigest> files = new LinkedHashMap<>();
      for (Map.Entry<String, List<HostTensor>> group : snapshot.groups().entrySet()) {
        String file = CheckpointLayout.groupFile(group.getKey());
        files.put(
            file,
            writeFile(tmp.resolve(file), out -> SafetensorsWriter.write(group.getValue(), out)));
      }
      manifest =
          new CheckpointManifest(
              CheckpointManifest.FORMAT_VERSION,
              snapshot.jobId(),
              snapshot.step(),
              snapshot.generation(),
              clock.instant(),
              snapshot.config(),
              snapshot.dataCursor(),
              snapshot.rng(),
              files);
      byte[] json = ManifestJson.write(manifest);
      writeFile(tmp.resolve(CheckpointLayout.MANIFEST), out -> out.write(ByteBuffer.wrap(json)));
      // The manifest's own checksum, inside the same temporary directory: it becomes visible with
      // the rest in the one rename below, never before the manifest is complete.
      byte[] checksum = ManifestChecksum.of(json);
      writeFile(
          tmp.resolve(CheckpointLayout.MANIFEST_CHECKSUM),
          out -> out.write(ByteBuffer.wrap(checksum)));
      run(tmp, "fsync directory", () -> io.syncDirectory(tmp));
      beforeCommit.run();
      if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
        // Only possible after resuming from an older checkpoint: this step's directory is from
        // an abandoned line of steps, damaged, or never committed. Renaming cannot replace a
        // non-empty directory, so it moves aside first.
        moveAside(target, snapshot);
      }
      run(target, "rename " + tmp.getFileName() + " to", () -> io.rename(tmp, target));
      written = target;
      run(root, "fsync directory", () -> io.syncDirectory(root));
      updateLatest(name);
    } catch (Failure f) {
      // If only the fsync after moving LATEST failed, LATEST may already name the directory
      // removed here; readers then fall back to the previous checkpoint, which is intact.
      discard(written);
      throw new CheckpointWriteException(
          String.format(
              Locale.ROOT,
              "cannot write checkpoint step %d of job %s (generation %d): %s %s failed: %s",
              snapshot.step(),
              snapshot.jobId(),
              snapshot.generation(),
              f.operation,
              f.path,
              CheckpointLayout.describe(f.io())),
          f.io());
    } catch (RuntimeException | Error e) {
      discard(written);
      throw e;
    }
    return new CompletedCheckpoint(target, manifest);
  }

  /**
   * Moves a checkpoint directory that is not older than {@code cause} out of readers' sight,
   * without deleting it (it may be the only copy of a run someone wants back). Best effort.
   */
  boolean supersede(Path dir, CheckpointSnapshot cause) {
    try {
      moveAside(dir, cause);
      return true;
    } catch (Failure f) {
      LOG.warn(
          "job {} generation {} step {}: could not move {} aside: {}",
          cause.jobId(),
          cause.generation(),
          cause.step(),
          dir,
          CheckpointLayout.describe(f.io()));
      return false;
    }
  }

  private void moveAside(Path dir, CheckpointSnapshot cause) throws Failure {
    Path aside =
        root.resolve(
            CheckpointLayout.hidden(
                CheckpointLayout.SUPERSEDED_PREFIX, dir.getFileName().toString()));
    run(aside, "rename " + dir.getFileName() + " to", () -> io.rename(dir, aside));
    LOG.warn(
        "job {} generation {} step {}: moved {} aside to {}: it is not older than the step being"
            + " written, so it belongs to an abandoned line of steps; delete it when not needed",
        cause.jobId(),
        cause.generation(),
        cause.step(),
        dir,
        aside);
  }

  /**
   * Deletes a directory: first renamed out of sight, so no reader ever sees it half deleted, then
   * removed. Best effort: a failure leaves hidden garbage that the next open removes.
   */
  boolean discard(Path dir) {
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      return true;
    }
    Path doomed = dir;
    try {
      if (!dir.getFileName().toString().startsWith(".")) {
        doomed =
            root.resolve(
                CheckpointLayout.hidden(
                    CheckpointLayout.DELETING_PREFIX, dir.getFileName().toString()));
        io.rename(dir, doomed);
      }
      io.deleteTree(doomed);
      return true;
    } catch (IOException e) {
      LOG.warn("Could not remove {}: {}", doomed, CheckpointLayout.describe(e));
      return false;
    }
  }

  private void updateLatest(String name) throws Failure {
    Path tmp = root.resolve(CheckpointLayout.hidden(CheckpointLayout.LATEST_TMP_PREFIX, ""));
    Path latest = root.resolve(CheckpointLayout.LATEST);
    byte[] text = (name + "\n").getBytes(StandardCharsets.UTF_8);
    try {
      writeFile(tmp, out -> out.write(ByteBuffer.wrap(text)));
      run(latest, "rename " + tmp.getFileName() + " to", () -> io.rename(tmp, latest));
      run(root, "fsync directory", () -> io.syncDirectory(root));
    } catch (Failure f) {
      discard(tmp);
      throw f;
    }
  }

  private FileDigest writeFile(Path path, Body body) throws Failure {
    WritableFile file;
    try {
      file = io.create(path);
    } catch (IOException e) {
      throw new Failure(path, "create", e);
    }
    HashingOutput out = new HashingOutput(file);
    String operation = "write";
    try (file) {
      body.write(out);
      operation = "fsync";
      file.sync();
      operation = "close";
    } catch (IOException e) {
      throw new Failure(path, operation, e);
    }
    return out.digest();
  }

  private static void run(Path path, String operation, IoAction action) throws Failure {
    try {
      action.run();
    } catch (IOException e) {
      throw new Failure(path, operation, e);
    }
  }
}
