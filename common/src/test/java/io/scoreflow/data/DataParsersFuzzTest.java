package io.scoreflow.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoreflow.files.Attempt;
import io.scoreflow.files.Corpus;
import io.scoreflow.files.InputFiles;
import io.scoreflow.files.Mutation;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import javax.imageio.ImageIO;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * The data readers (npz, IDX, PNG folders, CIFAR-10 batches) on valid files from writers that are
 * not the reader (the product's npz writers, the JDK's PNG writer, the IDX and CIFAR layouts by
 * hand) and on the same files mutated. A valid file reads back exactly; a mutated one reads
 * consistently or is refused with one line naming the file, in bounded time and heap.
 */
class DataParsersFuzzTest {
  private static Path dir;
  private static int cases;

  @BeforeContainer
  static void start() throws IOException {
    dir = Files.createTempDirectory("data-fuzz");
    // Load the readers' classes (and their error paths) before anything is measured.
    for (String format : List.of("npz", "idx", "png", "cifar10")) {
      for (Path seed : Corpus.files(format)) {
        try {
          read(format, seed);
        } catch (RuntimeException e) {
          // The bad seeds are refused; their replay below checks how.
        }
      }
    }
  }

  @AfterContainer
  static void stop() throws IOException {
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private static Object read(String format, Path file) {
    return switch (format) {
      case "npz" -> Npz.read(file);
      case "idx" -> IdxImages.open(file);
      case "png" -> PngFolder.open(Files.isDirectory(file) ? file : single(file));
      case "cifar10" -> Cifar10.files(List.of(file));
      default -> throw new IllegalArgumentException(format);
    };
  }

  /** A folder holding only {@code png}, for a seed file that is read as a one-image folder. */
  private static Path single(Path png) {
    try {
      Path folder = Files.createDirectories(dir.resolve("seed-" + cases++));
      Files.copy(png, folder.resolve("x.png"));
      return folder;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Heap a read may take: its result and buffers, a small multiple of the input. */
  private static long heapFor(long inputBytes) {
    return 64 * inputBytes + (16 << 20);
  }

  private static Path write(String name, byte[] bytes) throws IOException {
    Path file = dir.resolve("case-" + cases++ + "-" + name);
    Files.write(file, bytes);
    return file;
  }

  // npz ---------------------------------------------------------------------------------------

  /** Arrays and which of the product's writers stores them. */
  record NpzSpec(Map<String, Npz.FloatArray> arrays, boolean streamed) {
    byte[] encode() throws IOException {
      Path file = dir.resolve("npz-" + cases++ + ".npz");
      if (streamed) {
        try (NpzWriter w = NpzWriter.open(file)) {
          for (Map.Entry<String, Npz.FloatArray> e : arrays.entrySet()) {
            w.begin(e.getKey(), e.getValue().shape()).append(e.getValue().data());
          }
        }
      } else {
        Npz.write(file, arrays);
      }
      byte[] bytes = Files.readAllBytes(file);
      Files.delete(file);
      return bytes;
    }
  }

  @Provide
  Arbitrary<NpzSpec> npzFiles() {
    Arbitrary<Npz.FloatArray> array =
        Arbitraries.integers()
            .between(0, 4)
            .array(int[].class)
            .ofMaxSize(3)
            .flatMap(
                shape ->
                    Arbitraries.floats()
                        .array(float[].class)
                        .ofSize(Arrays.stream(shape).reduce(1, (a, b) -> a * b))
                        .map(data -> new Npz.FloatArray(shape, data)));
    Arbitrary<Map<String, Npz.FloatArray>> arrays =
        Arbitraries.maps(
                Arbitraries.strings().alpha().numeric().ofMinLength(1).ofMaxLength(8), array)
            .ofMinSize(1)
            .ofMaxSize(3)
            .map(LinkedHashMap::new);
    return Combinators.combine(arrays, Arbitraries.of(false, true)).as(NpzSpec::new);
  }

  @Property
  void validNpzFilesLoadExactly(@ForAll("npzFiles") NpzSpec spec) throws IOException {
    Path file = write("x.npz", spec.encode());
    Attempt<Map<String, Npz.FloatArray>> a =
        Attempt.of(file, "", heapFor(Files.size(file)), () -> Npz.read(file));
    assertNull(a.refusal(), () -> a.refusal().getMessage());
    assertEquals(spec.arrays(), a.result());
  }

  @Property
  void mutatedNpzFilesLoadOrAreRefusedInOneLine(
      @ForAll("npzFiles") NpzSpec spec, @ForAll("mutations") List<Mutation> mutations)
      throws IOException {
    Path file = write("x.npz", Mutation.applyAll(mutations, spec.encode()));
    Attempt<Map<String, Npz.FloatArray>> a =
        Attempt.of(file, "", heapFor(Files.size(file)), () -> Npz.read(file));
    if (a.loaded()) {
      a.result().values().forEach(v -> assertEquals(size(v.shape()), v.data().length));
    }
  }

  /**
   * A 5-byte data entry whose header claims 2^29 floats: the reader used to allocate the 2 GiB
   * array first and find the data short after.
   */
  @Example
  void anNpyHeaderClaiming2GibOfFloatsIsRefusedWithoutAllocating() {
    Path seed = seed("npz", "bad-shape-claims-2g-floats.npz");
    Attempt<?> a = Attempt.of(seed, " (x.npy): ", 1 << 20, () -> Npz.read(seed));
    assertTrue(a.refusal().getMessage().contains("needs 2147483648 bytes"), a.toString());
  }

  /** (2^31 - 1)^3 × 8 wrapped a long in the old element count. */
  @Example
  void anNpyShapeWhoseProductOverflowsIsRefused() {
    Path seed = seed("npz", "bad-shape-product-overflows.npz");
    Attempt<?> a = Attempt.of(seed, " (x.npy): ", 1 << 20, () -> Npz.read(seed));
    assertTrue(a.refusal().getMessage().contains("more values than one array can"), a.toString());
  }

  // IDX ---------------------------------------------------------------------------------------

  record Idx(int count, int rows, int columns, byte[] pixels, boolean gzipped) {
    byte[] encode() throws IOException {
      ByteBuffer b = ByteBuffer.allocate(16 + pixels.length);
      b.putInt(IdxImages.IMAGES_MAGIC).putInt(count).putInt(rows).putInt(columns).put(pixels);
      return gzipped ? gzip(b.array()) : b.array();
    }

    @Override
    public String toString() {
      return count + "x" + rows + "x" + columns + (gzipped ? ".gz" : "");
    }
  }

  static byte[] gzip(byte[] bytes) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream z = new GZIPOutputStream(out)) {
      z.write(bytes);
    }
    return out.toByteArray();
  }

  @Provide
  Arbitrary<Idx> idxFiles() {
    return Combinators.combine(
            Arbitraries.integers().between(1, 4),
            Arbitraries.integers().between(1, 6),
            Arbitraries.integers().between(1, 6),
            Arbitraries.longs(),
            Arbitraries.of(false, true))
        .as(
            (n, r, c, seed, gz) -> {
              byte[] pixels = new byte[n * r * c];
              new Random(seed).nextBytes(pixels);
              return new Idx(n, r, c, pixels, gz);
            });
  }

  @Property
  void validIdxFilesLoadExactly(@ForAll("idxFiles") Idx idx) throws IOException {
    Path file = write("images-idx3-ubyte", idx.encode());
    Attempt<Dataset> a =
        Attempt.of(file, ": ", heapFor(16 + idx.pixels().length), () -> IdxImages.open(file));
    assertNull(a.refusal(), () -> a.refusal().getMessage());
    assertEquals(idx.count(), a.result().size());
    assertEquals(SampleShape.image(1, idx.rows(), idx.columns()), a.result().shape());
    assertArrayEquals(unit(idx.pixels()), all(a.result()), 0f);
  }

  @Property
  void mutatedIdxFilesLoadOrAreRefusedInOneLine(
      @ForAll("idxFiles") Idx idx, @ForAll("mutations") List<Mutation> mutations)
      throws IOException {
    Path file = write("images-idx3-ubyte", Mutation.applyAll(mutations, idx.encode()));
    // A mutated gzip header may be valid with other dimensions: still no more than its data.
    Attempt<Dataset> a =
        Attempt.of(file, ": ", heapFor(16 + idx.pixels().length), () -> IdxImages.open(file));
    if (a.loaded()) {
      assertEquals(a.result().size() * a.result().shape().size(), all(a.result()).length);
    }
  }

  /**
   * A 60-byte gzip file whose header claims 1000 images of 1024×1024 (1 GiB): deflate's largest
   * ratio refuses it before a byte of pixels is read.
   */
  @Example
  void aGzipIdxHeaderClaimingMoreThanItsBytesCanHoldIsRefusedAtOnce() {
    Path seed = seed("idx", "bad-claims-1000x1024x1024.gz");
    Attempt<?> a = Attempt.of(seed, ": truncated", 1 << 20, () -> IdxImages.open(seed));
    assertTrue(a.refusal().getMessage().contains("more than a gzip file of"), a.toString());
  }

  /** Dimensions of 2^31 - 1 each: their product does not fit a long, it must not wrap. */
  @Example
  void idxDimensionsWhoseProductOverflowsAreRefused() {
    Path seed = seed("idx", "bad-dimensions-overflow-int64");
    Attempt<?> a = Attempt.of(seed, ": header claims", 1 << 20, () -> IdxImages.open(seed));
    assertTrue(a.refusal().getMessage().contains("more than 2^63"), a.toString());
  }

  // PNG folders -------------------------------------------------------------------------------

  /** Images of one size, gray or RGB, written by the JDK's PNG writer. */
  record Pngs(int width, int height, boolean rgb, List<Long> seeds) {
    List<BufferedImage> images() {
      return seeds.stream()
          .map(
              seed -> {
                Random random = new Random(seed);
                BufferedImage image =
                    new BufferedImage(
                        width,
                        height,
                        rgb ? BufferedImage.TYPE_INT_RGB : BufferedImage.TYPE_BYTE_GRAY);
                for (int y = 0; y < height; y++) {
                  for (int x = 0; x < width; x++) {
                    if (rgb) {
                      image.setRGB(x, y, random.nextInt(1 << 24));
                    } else {
                      image.getRaster().setSample(x, y, 0, random.nextInt(256));
                    }
                  }
                }
                return image;
              })
          .toList();
    }

    Path write() throws IOException {
      Path folder = Files.createDirectories(dir.resolve("png-" + cases++));
      List<BufferedImage> images = images();
      for (int i = 0; i < images.size(); i++) {
        assertTrue(ImageIO.write(images.get(i), "png", folder.resolve(i + ".png").toFile()));
      }
      return folder;
    }
  }

  @Provide
  Arbitrary<Pngs> pngFolders() {
    return Combinators.combine(
            Arbitraries.integers().between(1, 6),
            Arbitraries.integers().between(1, 6),
            Arbitraries.of(false, true),
            Arbitraries.longs().list().ofMinSize(1).ofMaxSize(3))
        .as(Pngs::new);
  }

  @Property
  void validPngFoldersLoadExactly(@ForAll("pngFolders") Pngs pngs) throws IOException {
    Path folder = pngs.write();
    Attempt<Dataset> a =
        Attempt.of(folder, "", heapFor(sizeOf(folder)), () -> PngFolder.open(folder));
    assertNull(a.refusal(), () -> a.refusal().getMessage());
    Dataset data = a.result();
    assertEquals(SampleShape.image(pngs.rgb() ? 3 : 1, pngs.height(), pngs.width()), data.shape());
    List<BufferedImage> images = pngs.images();
    float[] sample = new float[data.shape().size()];
    int plane = pngs.width() * pngs.height();
    for (int i = 0; i < images.size(); i++) {
      data.read(i, sample, 0);
      for (int y = 0; y < pngs.height(); y++) {
        for (int x = 0; x < pngs.width(); x++) {
          int p = y * pngs.width() + x;
          if (pngs.rgb()) {
            int rgb = images.get(i).getRGB(x, y);
            assertEquals(((rgb >> 16) & 0xFF) / 255f, sample[p], 0f);
            assertEquals(((rgb >> 8) & 0xFF) / 255f, sample[plane + p], 0f);
            assertEquals((rgb & 0xFF) / 255f, sample[2 * plane + p], 0f);
          } else {
            assertEquals(images.get(i).getRaster().getSample(x, y, 0) / 255f, sample[p], 0f);
          }
        }
      }
    }
  }

  @Property
  void mutatedPngFilesLoadOrAreRefusedInOneLine(
      @ForAll("pngFolders") Pngs pngs,
      @ForAll("mutations") List<Mutation> mutations,
      @ForAll int which)
      throws IOException {
    Path folder = pngs.write();
    Path victim = folder.resolve(Math.floorMod(which, pngs.seeds().size()) + ".png");
    Files.write(victim, Mutation.applyAll(mutations, Files.readAllBytes(victim)));
    Attempt<Dataset> a =
        Attempt.of(folder, "", heapFor(sizeOf(folder)), () -> PngFolder.open(folder));
    if (a.loaded()) {
      assertEquals(pngs.seeds().size(), a.result().size());
    }
  }

  /** A 60-byte PNG claiming 100000×100000 pixels: the decoder used to allocate its raster. */
  @Example
  void aPngClaimingHugeSidesIsRefusedBeforeDecoding() {
    Path folder = single(seed("png", "bad-claims-100000x100000.png"));
    Attempt<?> a = Attempt.of(folder, "", 1 << 20, () -> PngFolder.open(folder));
    assertTrue(a.refusal().getMessage().contains("is 100000×100000, more than the 4096×4096"));
  }

  // CIFAR-10 ----------------------------------------------------------------------------------

  @Provide
  Arbitrary<byte[]> cifarFiles() {
    return Combinators.combine(
            Arbitraries.integers().between(0, 9).list().ofMinSize(1).ofMaxSize(3),
            Arbitraries.longs())
        .as(
            (labels, seed) -> {
              byte[] bytes = new byte[labels.size() * Cifar10.RECORD_SIZE];
              new Random(seed).nextBytes(bytes);
              for (int r = 0; r < labels.size(); r++) {
                bytes[r * Cifar10.RECORD_SIZE] = (byte) (int) labels.get(r);
              }
              return bytes;
            });
  }

  @Property
  void validCifarBatchesLoadExactly(@ForAll("cifarFiles") byte[] bytes) throws IOException {
    Path file = write("data_batch_1.bin", bytes);
    Attempt<Dataset> a =
        Attempt.of(file, "", heapFor(bytes.length), () -> Cifar10.files(List.of(file)));
    assertNull(a.refusal(), () -> a.refusal().getMessage());
    int records = bytes.length / Cifar10.RECORD_SIZE;
    byte[] pixels = new byte[records * (Cifar10.RECORD_SIZE - 1)];
    for (int r = 0; r < records; r++) {
      System.arraycopy(
          bytes,
          r * Cifar10.RECORD_SIZE + 1,
          pixels,
          r * (Cifar10.RECORD_SIZE - 1),
          Cifar10.RECORD_SIZE - 1);
    }
    assertArrayEquals(unit(pixels), all(a.result()), 0f);
  }

  @Property
  void mutatedCifarBatchesLoadOrAreRefusedInOneLine(
      @ForAll("cifarFiles") byte[] bytes, @ForAll("mutations") List<Mutation> mutations)
      throws IOException {
    Path file = write("data_batch_1.bin", Mutation.applyAll(mutations, bytes));
    Attempt.of(file, "", heapFor(bytes.length), () -> Cifar10.files(List.of(file)));
  }

  // shared ------------------------------------------------------------------------------------

  @Provide
  Arbitrary<List<Mutation>> mutations() {
    return Mutation.some();
  }

  @Example
  void everySeedFileLoadsOrIsRefusedAsItsNameSays() {
    for (String format : List.of("npz", "idx", "png", "cifar10")) {
      for (Path seed : Corpus.files(format)) {
        Path input = format.equals("png") ? single(seed) : seed;
        Attempt<?> a =
            Attempt.of(input, "", heapFor(InputFiles.size(seed)), () -> read(format, input));
        assertEquals(Corpus.valid(seed), a.loaded(), seed + ": " + a.refusal());
      }
    }
  }

  private static Path seed(String format, String name) {
    return Corpus.files(format).stream()
        .filter(p -> p.getFileName().toString().equals(name))
        .findFirst()
        .orElseThrow();
  }

  private static long sizeOf(Path folder) throws IOException {
    try (Stream<Path> files = Files.list(folder)) {
      return files.mapToLong(InputFiles::size).sum();
    }
  }

  private static int size(int[] shape) {
    return Arrays.stream(shape).reduce(1, (a, b) -> a * b);
  }

  private static float[] unit(byte[] pixels) {
    float[] out = new float[pixels.length];
    for (int i = 0; i < pixels.length; i++) {
      out[i] = (pixels[i] & 0xFF) / 255f;
    }
    return out;
  }

  private static float[] all(Dataset data) {
    int n = data.shape().size();
    float[] out = new float[data.size() * n];
    for (int i = 0; i < data.size(); i++) {
      data.read(i, out, i * n);
    }
    return out;
  }
}
