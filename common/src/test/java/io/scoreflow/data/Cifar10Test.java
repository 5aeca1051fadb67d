package io.scoreflow.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoreflow.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Cifar10Test {
  @TempDir Path dir;

  /** A batch file of {@code records} records whose pixels encode (file, record, position). */
  static byte[] batch(int file, int records) {
    byte[] bytes = new byte[records * Cifar10.RECORD_SIZE];
    for (int r = 0; r < records; r++) {
      int at = r * Cifar10.RECORD_SIZE;
      bytes[at] = (byte) ((file + r) % 10);
      for (int p = 0; p < 3072; p++) {
        bytes[at + 1 + p] = pixel(file, r, p);
      }
    }
    return bytes;
  }

  static byte pixel(int file, int record, int position) {
    return (byte) (31 * file + 7 * record + position);
  }

  private void writeTrainBatches(Path where, int records) throws IOException {
    Files.createDirectories(where);
    for (int f = 0; f < 5; f++) {
      Files.write(where.resolve(Cifar10.TRAIN_FILES.get(f)), batch(f, records));
    }
  }

  @Test
  void readsTheFiveTrainingBatchesInOrderAsUnitFloats() throws IOException {
    writeTrainBatches(dir, 3);
    Dataset data = Cifar10.train(dir);
    assertEquals(15, data.size());
    assertEquals(SampleShape.image(3, 32, 32), data.shape());
    float[] sample = data.get(7); // file 2, record 1
    for (int p = 0; p < 3072; p++) {
      assertEquals((pixel(2, 1, p) & 0xFF) / 255f, sample[p], 0f);
    }
    assertTrue(data.description().contains(dir.toString()));
  }

  @Test
  void findsTheArchiveFolderInsideTheGivenDirectory() throws IOException {
    writeTrainBatches(dir.resolve("cifar-10-batches-bin"), 2);
    assertEquals(10, Cifar10.train(dir).size());
  }

  @Test
  void readsTheTestBatchAndExplicitFiles() throws IOException {
    Files.write(dir.resolve("test_batch.bin"), batch(9, 4));
    assertEquals(4, Cifar10.test(dir).size());
    writeTrainBatches(dir, 2);
    Dataset two =
        Cifar10.files(List.of(dir.resolve("data_batch_2.bin"), dir.resolve("test_batch.bin")));
    assertEquals(6, two.size());
    assertArrayEquals(Cifar10.test(dir).get(0), two.get(2));
  }

  @Test
  void readIntoAnOffsetLeavesTheRestOfTheArrayAlone() throws IOException {
    writeTrainBatches(dir, 1);
    Dataset data = Cifar10.train(dir);
    float[] dest = new float[3072 + 10];
    java.util.Arrays.fill(dest, -1f);
    data.read(4, dest, 5);
    assertEquals(-1f, dest[4]);
    assertEquals(-1f, dest[3072 + 5]);
    assertEquals((pixel(4, 0, 0) & 0xFF) / 255f, dest[5]);
    assertThrows(IndexOutOfBoundsException.class, () -> data.read(5, dest, 0));
    assertThrows(IndexOutOfBoundsException.class, () -> data.read(0, dest, 11));
  }

  @Test
  void missingDirectoryIsNamed() {
    Path missing = dir.resolve("nope");
    InvalidInputException e =
        assertThrows(InvalidInputException.class, () -> Cifar10.train(missing));
    assertTrue(e.getMessage().startsWith(missing + ": no such directory"), e.getMessage());
  }

  @Test
  void emptyDirectoryNamesTheFirstExpectedFile() {
    InvalidInputException e = assertThrows(InvalidInputException.class, () -> Cifar10.train(dir));
    assertTrue(
        e.getMessage().startsWith(dir.resolve("data_batch_1.bin") + ": no such file"),
        e.getMessage());
  }

  @Test
  void missingBatchIsNamed() throws IOException {
    writeTrainBatches(dir, 1);
    Files.delete(dir.resolve("data_batch_3.bin"));
    InvalidInputException e = assertThrows(InvalidInputException.class, () -> Cifar10.train(dir));
    assertTrue(
        e.getMessage().startsWith(dir.resolve("data_batch_3.bin") + ": no such file"),
        e.getMessage());
  }

  @Test
  void sizeThatIsNotWholeRecordsIsNamed() throws IOException {
    writeTrainBatches(dir, 1);
    Path bad = dir.resolve("data_batch_1.bin");
    Files.write(bad, new byte[1000]);
    InvalidInputException e = assertThrows(InvalidInputException.class, () -> Cifar10.train(dir));
    assertEquals(
        bad + ": size 1000 is not a multiple of the CIFAR-10 record size 3073", e.getMessage());
  }

  @Test
  void truncatedBatchIsNamed() throws IOException {
    writeTrainBatches(dir, 2);
    Path bad = dir.resolve("data_batch_5.bin");
    byte[] whole = Files.readAllBytes(bad);
    Files.write(bad, java.util.Arrays.copyOf(whole, whole.length - 100));
    InvalidInputException e = assertThrows(InvalidInputException.class, () -> Cifar10.train(dir));
    assertTrue(e.getMessage().startsWith(bad + ": size 6046 is not a multiple"), e.getMessage());
  }

  @Test
  void cifar100RecordsGetAHint() throws IOException {
    Path bad = dir.resolve("test_batch.bin");
    Files.write(bad, new byte[3074 * 3]);
    InvalidInputException e = assertThrows(InvalidInputException.class, () -> Cifar10.test(dir));
    assertTrue(e.getMessage().startsWith(bad + ": size 9222"), e.getMessage());
    assertTrue(e.getMessage().contains("CIFAR-100"), e.getMessage());
  }

  @Test
  void emptyFileIsNamed() throws IOException {
    Path bad = dir.resolve("test_batch.bin");
    Files.write(bad, new byte[0]);
    InvalidInputException e = assertThrows(InvalidInputException.class, () -> Cifar10.test(dir));
    assertEquals(bad + ": is empty (expected CIFAR-10 records)", e.getMessage());
  }

  @Test
  void labelOutsideZeroToNineIsAMalformedFile() throws IOException {
    byte[] bytes = batch(0, 3);
    bytes[2 * Cifar10.RECORD_SIZE] = (byte) 200;
    Path bad = dir.resolve("test_batch.bin");
    Files.write(bad, bytes);
    InvalidInputException e = assertThrows(InvalidInputException.class, () -> Cifar10.test(dir));
    assertTrue(e.getMessage().startsWith(bad + ": record 2 has label 200"), e.getMessage());
  }

  @Test
  void aDirectoryWhereAFileShouldBeIsNamed() throws IOException {
    Path notAFile = Files.createDirectory(dir.resolve("test_batch.bin"));
    InvalidInputException e =
        assertThrows(InvalidInputException.class, () -> Cifar10.files(List.of(notAFile)));
    assertTrue(e.getMessage().startsWith(notAFile + ": not a regular file"), e.getMessage());
    assertThrows(InvalidInputException.class, () -> Cifar10.files(List.of()));
  }
}
