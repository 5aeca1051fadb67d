package io.scoreflow.ckpt;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The local file system, with every operation recorded and any of them made to fail: a disk that
 * fills up, a directory that refuses writes, or a crash (every operation from some point on fails,
 * as if the process had died there, so no cleanup reaches the disk).
 */
final class FaultyIo implements CheckpointIo {
  enum Op {
    CREATE,
    WRITE,
    SYNC,
    CREATE_DIRECTORY,
    SYNC_DIRECTORY,
    RENAME,
    DELETE
  }

  record Call(Op op, Path path) {}

  private final CheckpointIo disk = CheckpointIo.local();
  private final List<Call> calls = Collections.synchronizedList(new ArrayList<>());
  private volatile Predicate<Call> failWhen = call -> false;
  private volatile Function<Path, IOException> error = path -> new IOException("injected");
  private volatile boolean crashOnFailure;
  private volatile boolean crashed;
  private volatile CountDownLatch gate;
  private volatile CountDownLatch entered;

  /** Fails the first call matching {@code when} (and every later match) with {@code error}. */
  FaultyIo failWhen(Predicate<Call> when, Function<Path, IOException> error) {
    this.failWhen = when;
    this.error = error;
    return this;
  }

  /** Makes call number {@code index} (0-based) fail and every call after it: a crash there. */
  FaultyIo crashAt(int index) {
    this.crashOnFailure = true;
    return failWhen(call -> calls.size() - 1 == index, path -> new IOException("simulated crash"));
  }

  /** Holds every {@code createDirectory} until {@code gate} opens; counts {@code entered} down. */
  FaultyIo gateDirectories(CountDownLatch gate, CountDownLatch entered) {
    this.gate = gate;
    this.entered = entered;
    return this;
  }

  static IOException diskFull(Path path) {
    return new IOException("No space left on device");
  }

  List<Call> calls() {
    synchronized (calls) {
      return List.copyOf(calls);
    }
  }

  private void enter(Op op, Path path) throws IOException {
    Call call = new Call(op, path);
    calls.add(call);
    if (crashed || failWhen.test(call)) {
      crashed |= crashOnFailure;
      throw error.apply(path);
    }
  }

  @Override
  public WritableFile create(Path file) throws IOException {
    enter(Op.CREATE, file);
    WritableFile real = disk.create(file);
    return new WritableFile() {
      @Override
      public void write(ByteBuffer bytes) throws IOException {
        try {
          enter(Op.WRITE, file);
        } catch (IOException e) {
          // A full disk takes part of the buffer before it refuses: leave a partial file behind.
          ByteBuffer half = bytes.duplicate();
          half.limit(half.position() + half.remaining() / 2);
          real.write(half);
          throw e;
        }
        real.write(bytes);
      }

      @Override
      public void sync() throws IOException {
        enter(Op.SYNC, file);
        real.sync();
      }

      @Override
      public void close() throws IOException {
        real.close();
      }
    };
  }

  @Override
  public void createDirectory(Path dir) throws IOException {
    CountDownLatch g = gate;
    if (g != null) {
      entered.countDown();
      try {
        g.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted", e);
      }
    }
    enter(Op.CREATE_DIRECTORY, dir);
    disk.createDirectory(dir);
  }

  @Override
  public void syncDirectory(Path dir) throws IOException {
    enter(Op.SYNC_DIRECTORY, dir);
    disk.syncDirectory(dir);
  }

  @Override
  public void rename(Path source, Path target) throws IOException {
    enter(Op.RENAME, target);
    disk.rename(source, target);
  }

  @Override
  public void deleteTree(Path path) throws IOException {
    enter(Op.DELETE, path);
    disk.deleteTree(path);
  }
}
