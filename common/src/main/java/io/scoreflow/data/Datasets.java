package io.scoreflow.data;

import io.scoreflow.InvalidInputException;
import io.scoreflow.files.InputFiles;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Opens the training images at a path whatever their format, so that a command line needs only
 * {@code --data PATH}. The format is recognised from what is there, in this order:
 *
 * <ol>
 *   <li>a directory with {@code data_batch_1.bin} (or its {@code cifar-10-batches-bin} folder): the
 *       CIFAR-10 training batches;
 *   <li>a directory with {@code train-images-idx3-ubyte[.gz]}: the MNIST-style training images;
 *   <li>a directory with {@code .png} files: a {@link PngFolder};
 *   <li>a file: IDX images if it starts with the IDX magic (or is gzipped), else a CIFAR-10 batch.
 * </ol>
 */
public final class Datasets {
  private Datasets() {}

  public static Dataset open(Path path) {
    if (!Files.exists(path)) {
      throw new InvalidInputException(path + ": no such file or directory (expected a dataset)");
    }
    if (Files.isRegularFile(path)) {
      return looksLikeIdx(path) ? IdxImages.open(path) : Cifar10.files(List.of(path));
    }
    if (Files.exists(path.resolve(Cifar10.TRAIN_FILES.get(0)))
        || Files.exists(path.resolve(Cifar10.ARCHIVE_FOLDER).resolve(Cifar10.TRAIN_FILES.get(0)))) {
      return Cifar10.train(path);
    }
    for (String name : IdxImages.TRAIN_NAMES) {
      if (Files.exists(path.resolve(name))) {
        return IdxImages.train(path);
      }
    }
    if (hasPng(path)) {
      return PngFolder.open(path);
    }
    throw new InvalidInputException(
        path
            + ": no dataset recognised here (expected CIFAR-10 data_batch_*.bin, MNIST-style"
            + " train-images-idx3-ubyte[.gz], or .png files)");
  }

  private static boolean looksLikeIdx(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      byte[] head = in.readNBytes(4);
      boolean gzip = head.length >= 2 && (head[0] & 0xFF) == 0x1F && (head[1] & 0xFF) == 0x8B;
      // IDX of unsigned bytes starts 0, 0, 0x08. A CIFAR-10 batch can start so too (label 0,
      // then pixels 0 and 8), so the .bin name of CIFAR batches decides.
      boolean idx = head.length == 4 && head[0] == 0 && head[1] == 0 && head[2] == 0x08;
      String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
      return gzip || (idx && !name.endsWith(".bin"));
    } catch (IOException e) {
      throw InputFiles.unreadable(file, e);
    }
  }

  private static boolean hasPng(Path dir) {
    try (Stream<Path> entries = Files.list(dir)) {
      return entries.anyMatch(
          p -> p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png"));
    } catch (IOException e) {
      throw InputFiles.unreadable(dir, e);
    }
  }
}
