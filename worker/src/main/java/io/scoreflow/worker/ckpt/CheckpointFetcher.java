package io.scoreflow.worker.ckpt;

import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.scoreflow.ckpt.CheckpointLayout;
import io.scoreflow.ckpt.CheckpointReader;
import io.scoreflow.ckpt.CompletedCheckpoint;
import io.scoreflow.proto.v1.CheckpointChunk;
import io.scoreflow.proto.v1.CheckpointServiceGrpc;
import io.scoreflow.proto.v1.FetchCheckpointRequest;
import io.scoreflow.proto.v1.NewestCheckpointRequest;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Receives checkpoints from a {@link CheckpointServer} into a local checkpoint root, in the same
 * layout a writer leaves ({@code step-N/}): the files go to a hidden temporary directory, each is
 * checked against the size and SHA-256 the stream announced (the manifest's own digests), then the
 * whole is verified as a checkpoint and renamed into place. A failed or cut-off fetch leaves
 * nothing a reader would take for a checkpoint.
 */
public final class CheckpointFetcher {

  private static final Pattern SAFE_NAME = Pattern.compile("[A-Za-z0-9._-]+");

  private final Channel channel;
  private final Duration deadline;

  /** A fetcher over {@code channel}; every call gets {@code deadline}. */
  public CheckpointFetcher(Channel channel, Duration deadline) {
    this.channel = channel;
    this.deadline = deadline;
  }

  /** A fetch that failed: {@code status} is the server's (or the local check's) verdict. */
  public static final class FetchException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final Status.Code code;

    FetchException(Status.Code code, String message, Throwable cause) {
      super(message, cause);
      this.code = code;
    }

    public Status.Code code() {
      return code;
    }
  }

  /** The newest complete checkpoint the server holds for {@code job}, if any. */
  public OptionalLong newest(String job) {
    try {
      long step =
          CheckpointServiceGrpc.newBlockingStub(channel)
              .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)
              .newest(NewestCheckpointRequest.newBuilder().setJob(job).build())
              .getStep();
      return step < 0 ? OptionalLong.empty() : OptionalLong.of(step);
    } catch (StatusRuntimeException e) {
      throw failed(job, -1, e);
    }
  }

  /**
   * Fetches checkpoint {@code step} of {@code job} into {@code root} (created if needed) and
   * returns it, verified. A checkpoint already there and valid is returned without a fetch.
   */
  public CompletedCheckpoint fetch(String job, long step, Path root) {
    Path target = root.resolve(String.format(Locale.ROOT, "step-%09d", step));
    if (Files.isDirectory(target)) {
      try {
        return CheckpointReader.verifyDirectory(target);
      } catch (RuntimeException e) {
        deleteTree(target);
      }
    }
    Path tmp =
        root.resolve(".tmp-fetch-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
    try {
      Files.createDirectories(tmp);
      receive(job, step, tmp);
      CompletedCheckpoint received = CheckpointReader.verifyDirectory(tmp);
      if (received.step() != step) {
        throw new FetchException(
            Status.Code.DATA_LOSS,
            "asked for checkpoint step " + step + ", received step " + received.step(),
            null);
      }
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
        // Another fetch of the same step won the race; its copy is as good as ours.
        deleteTree(tmp);
      } catch (AtomicMoveNotSupportedException e) {
        throw new FetchException(
            Status.Code.FAILED_PRECONDITION, root + " does not support atomic renames", e);
      }
      return CheckpointReader.verifyDirectory(target);
    } catch (IOException e) {
      throw new FetchException(
          Status.Code.INTERNAL, "cannot write the fetched checkpoint under " + root, e);
    } finally {
      if (Files.exists(tmp)) {
        deleteTree(tmp);
      }
    }
  }

  private void receive(String job, long step, Path dir) throws IOException {
    Iterator<CheckpointChunk> chunks;
    Map<String, Long> sizes = new HashMap<>();
    String file = null;
    OutputStream out = null;
    MessageDigest digest = null;
    String expectedSha = null;
    long expectedSize = 0;
    long written = 0;
    try {
      chunks =
          CheckpointServiceGrpc.newBlockingStub(channel)
              .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)
              .fetch(
                  FetchCheckpointRequest.newBuilder()
                      .setJob(job)
                      .setStep(step)
                      // chunk_bytes unset (0): the server's default chunk size
                      .build());
      while (chunks.hasNext()) {
        CheckpointChunk c = chunks.next();
        if (!c.getFile().equals(file)) {
          if (file != null) {
            finish(file, out, digest, expectedSha, expectedSize, written);
          }
          file = c.getFile();
          if (!SAFE_NAME.matcher(file).matches()
              || file.startsWith(".")
              || sizes.containsKey(file)) {
            throw new FetchException(
                Status.Code.DATA_LOSS,
                "the stream names an unsafe or repeated file '" + file + "'",
                null);
          }
          if (c.getOffset() != 0 || c.getSha256().isEmpty()) {
            throw new FetchException(
                Status.Code.DATA_LOSS,
                "file " + file + " starts without its size and digest",
                null);
          }
          expectedSha = c.getSha256();
          expectedSize = c.getSize();
          sizes.put(file, expectedSize);
          out = Files.newOutputStream(dir.resolve(file));
          digest = sha256();
          written = 0;
        }
        if (c.getOffset() != written) {
          throw new FetchException(
              Status.Code.DATA_LOSS,
              "file " + file + ": chunk at offset " + c.getOffset() + ", expected " + written,
              null);
        }
        c.getData().writeTo(out);
        digest.update(c.getData().asReadOnlyByteBuffer());
        written += c.getData().size();
      }
      if (file == null) {
        throw new FetchException(Status.Code.DATA_LOSS, "the server sent no files", null);
      }
      finish(file, out, digest, expectedSha, expectedSize, written);
      out = null;
    } catch (StatusRuntimeException e) {
      throw failed(job, step, e);
    } finally {
      if (out != null) {
        out.close();
      }
    }
    if (!sizes.containsKey(CheckpointLayout.MANIFEST)) {
      throw new FetchException(Status.Code.DATA_LOSS, "the stream held no manifest.json", null);
    }
  }

  private static void finish(
      String file, OutputStream out, MessageDigest digest, String sha, long size, long written)
      throws IOException {
    out.close();
    String got = HexFormat.of().formatHex(digest.digest());
    if (written != size || !got.equals(sha)) {
      throw new FetchException(
          Status.Code.DATA_LOSS,
          String.format(
              Locale.ROOT,
              "file %s arrived damaged: %d bytes with SHA-256 %s, expected %d bytes with %s",
              file,
              written,
              got,
              size,
              sha),
          null);
    }
  }

  private static FetchException failed(String job, long step, StatusRuntimeException e) {
    String what = step < 0 ? "the newest checkpoint" : "checkpoint step " + step;
    return new FetchException(
        e.getStatus().getCode(),
        "fetching "
            + what
            + " of job "
            + job
            + " failed: "
            + e.getStatus().getCode()
            + (e.getStatus().getDescription() == null ? "" : ": " + e.getStatus().getDescription()),
        e);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // Best effort: a leftover hidden directory is ignored by readers.
    }
  }
}
