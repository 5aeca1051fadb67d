package io.scoreflow.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoreflow.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetsTest {
  @TempDir Path dir;

  @Test
  void recognisesCifarIdxAndPngByWhatIsThere() throws IOException {
    Path cifar = Files.createDirectories(dir.resolve("c/cifar-10-batches-bin"));
    for (String name : Cifar10.TRAIN_FILES) {
      Files.write(cifar.resolve(name), Cifar10Test.batch(1, 2));
    }
    assertTrue(Datasets.open(dir.resolve("c")).description().startsWith("CIFAR-10 train"));
    assertEquals(2, Datasets.open(cifar.resolve("data_batch_1.bin")).size());

    Path mnist = Files.createDirectories(dir.resolve("m"));
    Files.write(
        mnist.resolve("train-images-idx3-ubyte.gz"),
        IdxImagesTest.gzip(IdxImagesTest.images(4, 2, 2)));
    assertEquals(4, Datasets.open(mnist).size());
    assertEquals(4, Datasets.open(mnist.resolve("train-images-idx3-ubyte.gz")).size());
    Path plainIdx = Files.write(dir.resolve("images.idx"), IdxImagesTest.images(3, 2, 2));
    assertEquals(3, Datasets.open(plainIdx).size());

    Path pngs = Files.createDirectories(dir.resolve("p"));
    ImageIO.write(PngFolderTest.gray(3, 3, 0), "png", pngs.resolve("x.png").toFile());
    assertEquals(1, Datasets.open(pngs).size());
  }

  @Test
  void somethingElseIsNamed() throws IOException {
    Path empty = Files.createDirectories(dir.resolve("empty"));
    InvalidInputException e = assertThrows(InvalidInputException.class, () -> Datasets.open(empty));
    assertTrue(e.getMessage().startsWith(empty + ": no dataset recognised here"), e.getMessage());
    Path missing = dir.resolve("missing");
    e = assertThrows(InvalidInputException.class, () -> Datasets.open(missing));
    assertTrue(e.getMessage().startsWith(missing + ": no such file or directory"), e.getMessage());
    Path text = Files.writeString(dir.resolve("notes.txt"), "hello");
    e = assertThrows(InvalidInputException.class, () -> Datasets.open(text));
    assertTrue(e.getMessage().startsWith(text + ": size 5 is not a multiple"), e.getMessage());
  }
}
