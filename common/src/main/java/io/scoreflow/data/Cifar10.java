package io.scoreflow.data;

import io.scoreflow.InvalidInputException;
import io.scoreflow.files.InputFiles;
import io.scoreflow.files.InvalidFileException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * CIFAR-10 in its binary distribution ({@code cifar-10-binary.tar.gz}): files of 3073-byte records,
 * one label byte then 3072 pixel bytes, channel-major 3×32×32 (1024 red, 1024 green, 1024 blue,
 * rows top to bottom). Labels are checked (they must be 0..9, which catches CIFAR-100's 3074-byte
 * records whose sizes happen to fit) but not kept: score models here are unconditional.
 */
public final class Cifar10 {
  public static final SampleShape.Image SHAPE = SampleShape.image(3, 32, 32);
  static final int RECORD_SIZE = 1 + 3 * 32 * 32;

  /** Names of the training batches, in the order their records are numbered. */
  public static final List<String> TRAIN_FILES =
      List.of(
          "data_batch_1.bin",
          "data_batch_2.bin",
          "data_batch_3.bin",
          "data_batch_4.bin",
          "data_batch_5.bin");

  public static final String TEST_FILE = "test_batch.bin";

  /** The folder the archive unpacks to; looked for inside the given directory too. */
  static final String ARCHIVE_FOLDER = "cifar-10-batches-bin";

  private Cifar10() {}

  /**
   * The 50,000 training images from {@code data_batch_1.bin} … {@code data_batch_5.bin} in {@code
   * dir} (or in {@code dir/cifar-10-batches-bin}).
   */
  public static Dataset train(Path dir) {
    Path base = locate(dir, TRAIN_FILES.get(0));
    List<Path> files = new ArrayList<>();
    for (String name : TRAIN_FILES) {
      files.add(base.resolve(name));
    }
    return read("CIFAR-10 train (" + base + ")", files);
  }

  /** The 10,000 test images from {@code test_batch.bin} in {@code dir} (or its archive folder). */
  public static Dataset test(Path dir) {
    Path base = locate(dir, TEST_FILE);
    return read("CIFAR-10 test (" + base + ")", List.of(base.resolve(TEST_FILE)));
  }

  /** The images of the given batch files, in order. */
  public static Dataset files(List<Path> files) {
    if (files.isEmpty()) {
      throw new InvalidInputException("no CIFAR-10 batch files given");
    }
    String what = files.size() == 1 ? files.get(0).toString() : files.size() + " files";
    return read("CIFAR-10 (" + what + ")", files);
  }

  private static Path locate(Path dir, String marker) {
    InputFiles.requireDirectory(dir, "the CIFAR-10 binary batches " + describeFiles());
    if (Files.exists(dir.resolve(marker))) {
      return dir;
    }
    Path nested = dir.resolve(ARCHIVE_FOLDER);
    if (Files.exists(nested.resolve(marker))) {
      return nested;
    }
    // Neither place has the first file: name it where the user most likely meant it to be.
    throw new InvalidInputException(
        dir.resolve(marker)
            + ": no such file (expected the CIFAR-10 binary batches "
            + describeFiles()
            + " in "
            + dir
            + " or in "
            + nested
            + ")");
  }

  private static String describeFiles() {
    return "data_batch_1.bin … data_batch_5.bin, test_batch.bin";
  }

  private static Dataset read(String description, List<Path> files) {
    long total = 0;
    for (Path file : files) {
      total += checkedSize(file);
    }
    long images = total / RECORD_SIZE;
    if (images * SHAPE.size() > InputFiles.MAX_ARRAY) {
      throw new InvalidInputException(
          description + ": " + images + " images are more than one dataset can hold in memory");
    }
    byte[] pixels = new byte[(int) (images * SHAPE.size())];
    int at = 0;
    for (Path file : files) {
      at = readRecords(file, pixels, at);
    }
    return new UInt8Images(description, SHAPE, pixels);
  }

  /** The size of a batch file, after checking it is a whole, non-zero number of records. */
  private static long checkedSize(Path file) {
    InputFiles.requireRegularFile(file, "a CIFAR-10 binary batch");
    long size = InputFiles.size(file);
    if (size == 0) {
      throw new InvalidFileException(file, "is empty (expected CIFAR-10 records)");
    }
    if (size % RECORD_SIZE != 0) {
      String hint =
          size % (RECORD_SIZE + 1) == 0 ? " (it looks like CIFAR-100, whose records are 3074)" : "";
      throw new InvalidFileException(
          file,
          "size " + size + " is not a multiple of the CIFAR-10 record size " + RECORD_SIZE + hint);
    }
    return size;
  }

  /** Copies the pixels of every record of {@code file} to {@code pixels[at..]}; returns the end. */
  private static int readRecords(Path file, byte[] pixels, int at) {
    byte[] record = new byte[RECORD_SIZE];
    long records = InputFiles.size(file) / RECORD_SIZE;
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 20)) {
      for (long r = 0; r < records; r++) {
        if (in.readNBytes(record, 0, RECORD_SIZE) != RECORD_SIZE) {
          throw new InvalidFileException(
              file, "ended inside record " + r + " (the file changed while being read)");
        }
        int label = record[0] & 0xFF;
        if (label > 9) {
          throw new InvalidFileException(
              file,
              "record "
                  + r
                  + " has label "
                  + label
                  + ", but CIFAR-10 labels are 0..9 (not a CIFAR-10 binary batch?)");
        }
        System.arraycopy(record, 1, pixels, at, RECORD_SIZE - 1);
        at += RECORD_SIZE - 1;
      }
    } catch (IOException e) {
      throw InputFiles.unreadable(file, e);
    }
    return at;
  }
}
