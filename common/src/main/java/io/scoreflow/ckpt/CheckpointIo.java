package io.scoreflow.ckpt;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Every operation by which the writer changes the disk. It is an interface so that tests can make
 * any one of them fail (disk full, permission denied, a crash at that point) without a special file
 * system; production uses {@link #local()}. Reading goes straight to {@link Files}.
 */
public interface CheckpointIo {

  /** A new file open for sequential writing. */
  interface WritableFile extends Closeable {
    /** Writes all remaining bytes of {@code bytes}. */
    void write(ByteBuffer bytes) throws IOException;

    /** Forces the file's data and metadata to the device (fsync on the same descriptor). */
    void sync() throws IOException;
  }

  /** Creates {@code file}, which must not exist. */
  WritableFile create(Path file) throws IOException;

  /** Creates {@code dir}, which must not exist; its parent must. */
  void createDirectory(Path dir) throws IOException;

  /** Forces a directory's entries (creations, renames) to the device. */
  void syncDirectory(Path dir) throws IOException;

  /** Renames atomically within one file system, replacing a file {@code target} if present. */
  void rename(Path source, Path target) throws IOException;

  /** Deletes a file or a directory tree; a missing path is not an error. */
  void deleteTree(Path path) throws IOException;

  /** The local file system through NIO. */
  static CheckpointIo local() {
    return Local.INSTANCE;
  }

  /** The local file system. */
  enum Local implements CheckpointIo {
    INSTANCE;

    @Override
    public WritableFile create(Path file) throws IOException {
      FileChannel channel =
          FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      return new WritableFile() {
        @Override
        public void write(ByteBuffer bytes) throws IOException {
          while (bytes.hasRemaining()) {
            channel.write(bytes);
          }
        }

        @Override
        public void sync() throws IOException {
          channel.force(true);
        }

        @Override
        public void close() throws IOException {
          channel.close();
        }
      };
    }

    @Override
    public void createDirectory(Path dir) throws IOException {
      Files.createDirectory(dir);
    }

    @Override
    public void syncDirectory(Path dir) throws IOException {
      // Linux allows opening a directory read-only and fsyncing it; that is what makes a rename
      // or a new entry durable.
      try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
        channel.force(true);
      }
    }

    @Override
    public void rename(Path source, Path target) throws IOException {
      Files.move(source, target, StandardCopyOption.ATOMIC_MOVE);
    }

    @Override
    public void deleteTree(Path path) throws IOException {
      if (!Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        return;
      }
      Files.walkFileTree(
          path,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                throws IOException {
              deleteIfPresent(file);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException failure)
                throws IOException {
              if (failure != null) {
                throw failure;
              }
              deleteIfPresent(dir);
              return FileVisitResult.CONTINUE;
            }
          });
    }

    private static void deleteIfPresent(Path path) throws IOException {
      try {
        Files.delete(path);
      } catch (NoSuchFileException e) {
        // Someone else removed it first; the goal is reached.
      }
    }
  }
}
