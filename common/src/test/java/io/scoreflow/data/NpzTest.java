package io.scoreflow.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.scoreflow.InvalidInputException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpzTest {
  @TempDir Path dir;

  static Map<String, Npz.FloatArray> sampleArrays() {
    float[] images = new float[2 * 3 * 4 * 5];
    for (int i = 0; i < images.length; i++) {
      images[i] = (float) Math.sin(i) * 3.5f;
    }
    images[7] = Float.NaN;
    images[8] = Float.NEGATIVE_INFINITY;
    images[9] = -0f;
    images[10] = Float.MIN_VALUE;
    Map<String, Npz.FloatArray> arrays = new LinkedHashMap<>();
    arrays.put("samples", Npz.FloatArray.of(images, 2, 3, 4, 5));
    arrays.put("vector", Npz.FloatArray.of(new float[] {1, 2, 3}, 3));
    arrays.put("scalar", Npz.FloatArray.of(new float[] {42.5f}));
    arrays.put("empty", Npz.FloatArray.of(new float[0], 0, 7));
    return arrays;
  }

  @Test
  void roundTripsInJava() {
    Path file = dir.resolve("a.npz");
    Map<String, Npz.FloatArray> arrays = sampleArrays();
    Npz.write(file, arrays);
    Map<String, Npz.FloatArray> back = Npz.read(file);
    assertEquals(List.copyOf(arrays.keySet()), List.copyOf(back.keySet()));
    assertEquals(arrays, back);
  }

  @Test
  void headerIsVersionOnePaddedTo64Bytes() {
    for (int[] shape : new int[][] {{}, {3}, {2, 3}, {50000, 3, 32, 32}}) {
      byte[] header = Npz.header(shape);
      assertEquals(0, header.length % 64);
      assertEquals(1, header[6]);
      assertEquals(0, header[7]);
      assertEquals('\n', header[header.length - 1]);
    }
    String text = new String(Npz.header(new int[] {3}), StandardCharsets.US_ASCII);
    assertTrue(text.contains("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"), text);
  }

  @Test
  void numpyReadsWhatJavaWrites() throws Exception {
    assumeNumpy();
    Path file = dir.resolve("from_java.npz");
    Npz.write(file, sampleArrays());
    // numpy recomputes the same values and compares bit for bit (NaN included).
    String script =
        String.join(
            "\n",
            "import numpy as np, sys",
            "z = np.load(sys.argv[1])",
            "assert list(z.keys()) == ['samples', 'vector', 'scalar', 'empty'], list(z.keys())",
            "s = z['samples']",
            "assert s.dtype == np.float32 and s.shape == (2, 3, 4, 5), (s.dtype, s.shape)",
            "e = (np.sin(np.arange(120, dtype=np.float64)).astype(np.float32) * np.float32(3.5))",
            "e[7] = np.nan; e[8] = -np.inf; e[9] = -0.0; e[10] = np.float32(1.4e-45)",
            "assert s.reshape(-1).view(np.uint32).tolist() == e.view(np.uint32).tolist()",
            "assert s[1, 2, 3, 4] == e[119]",
            "assert z['vector'].tolist() == [1.0, 2.0, 3.0] and z['vector'].shape == (3,)",
            "assert z['scalar'].shape == () and float(z['scalar']) == 42.5",
            "assert z['empty'].shape == (0, 7)",
            "print('ok')");
    assertEquals("ok", python(script, file.toString()));
  }

  @Test
  void numpyReadsWhatTheStreamingWriterWrites() throws Exception {
    assumeNumpy();
    Path file = dir.resolve("streamed.npz");
    try (NpzWriter w = NpzWriter.open(file)) {
      w.begin("x", 4, 50_000);
      float[] batch = new float[50_000];
      for (int b = 0; b < 4; b++) {
        for (int i = 0; i < batch.length; i++) {
          batch[i] = b + i / 65536f;
        }
        w.append(batch);
      }
    }
    String script =
        String.join(
            "\n",
            "import numpy as np, sys",
            "x = np.load(sys.argv[1])['x']",
            "e = (np.arange(4, dtype=np.float32)[:, None]",
            "     + np.arange(50000, dtype=np.float32)[None, :] / np.float32(65536))",
            "assert x.dtype == np.float32 and x.shape == (4, 50000), (x.dtype, x.shape)",
            "assert np.array_equal(x, e)",
            "print('ok')");
    assertEquals("ok", python(script, file.toString()));
  }

  @Test
  void javaReadsWhatNumpyWrites() throws Exception {
    assumeNumpy();
    for (String save : List.of("savez", "savez_compressed")) {
      Path file = dir.resolve(save + ".npz");
      String script =
          String.join(
              "\n",
              "import numpy as np, sys",
              "a = (np.arange(24, dtype=np.float32) / 7).reshape(2, 3, 4)",
              "t = np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3))",
              "np." + save + "(sys.argv[1], a=a, b=np.float32([-1.5, 2.25]), t=t)",
              "print('ok')");
      assertEquals("ok", python(script, file.toString()));
      // numpy writes a Fortran-ordered array as such; Npz refuses it rather than transposing.
      InvalidInputException e = assertThrows(InvalidInputException.class, () -> Npz.read(file));
      assertTrue(e.getMessage().contains("(t.npy): Fortran-order"), e.getMessage());

      String plain =
          String.join(
              "\n",
              "import numpy as np, sys",
              "a = (np.arange(24, dtype=np.float32) / 7).reshape(2, 3, 4)",
              "np." + save + "(sys.argv[1], a=a, b=np.float32([-1.5, 2.25]))",
              "print('ok')");
      assertEquals("ok", python(plain, file.toString()));
      Map<String, Npz.FloatArray> arrays = Npz.read(file);
      assertArrayEquals(new int[] {2, 3, 4}, arrays.get("a").shape());
      for (int i = 0; i < 24; i++) {
        assertEquals((float) i / 7f, arrays.get("a").data()[i], 0f);
      }
      assertArrayEquals(new float[] {-1.5f, 2.25f}, arrays.get("b").data());
    }
  }

  @Test
  void otherDtypeIsNamed() throws Exception {
    assumeNumpy();
    Path file = dir.resolve("f8.npz");
    python(
        "import numpy as np, sys\nnp.savez(sys.argv[1], x=np.zeros(3))\nprint('ok')",
        file.toString());
    InvalidInputException e = assertThrows(InvalidInputException.class, () -> Npz.read(file));
    assertEquals(
        file + " (x.npy): dtype '<f8' is not supported, expected float32 '<f4'", e.getMessage());
  }

  @Test
  void malformedFilesAreNamed() throws IOException {
    Path missing = dir.resolve("missing.npz");
    InvalidInputException e = assertThrows(InvalidInputException.class, () -> Npz.read(missing));
    assertTrue(e.getMessage().startsWith(missing + ": no such file"), e.getMessage());

    Path notZip = Files.writeString(dir.resolve("text.npz"), "hello");
    e = assertThrows(InvalidInputException.class, () -> Npz.read(notZip));
    assertTrue(e.getMessage().startsWith(notZip + ": not a valid npz"), e.getMessage());

    Path badEntry = dir.resolve("bad.npz");
    try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(badEntry))) {
      zip.putNextEntry(new ZipEntry("x.npy"));
      zip.write("not numpy".getBytes(StandardCharsets.US_ASCII));
      zip.closeEntry();
    }
    e = assertThrows(InvalidInputException.class, () -> Npz.read(badEntry));
    assertEquals(badEntry + " (x.npy): not a .npy array (bad magic)", e.getMessage());

    Path truncated = dir.resolve("truncated.npz");
    byte[] header = Npz.header(new int[] {100});
    try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(truncated))) {
      zip.putNextEntry(new ZipEntry("y.npy"));
      zip.write(header);
      zip.write(new byte[40]);
      zip.closeEntry();
    }
    e = assertThrows(InvalidInputException.class, () -> Npz.read(truncated));
    assertEquals(
        truncated
            + " (y.npy): truncated data: shape [100] of float32 needs 400 bytes, the entry holds 40",
        e.getMessage());
  }

  @Test
  void arrayShapeMustMatchItsData() {
    assertThrows(IllegalArgumentException.class, () -> Npz.FloatArray.of(new float[5], 2, 3));
  }

  private static void assumeNumpy() throws InterruptedException {
    boolean available;
    try {
      available = run(List.of("python3", "-c", "import numpy")).exitCode == 0;
    } catch (IOException e) {
      available = false;
    }
    assumeTrue(available, "python3 with numpy not found: numpy interoperability test skipped");
  }

  private static String python(String script, String arg) throws Exception {
    Result r = run(List.of("python3", "-c", script, arg));
    assertEquals(0, r.exitCode, "python failed:\n" + r.output);
    return r.output.strip();
  }

  private record Result(int exitCode, String output) {}

  private static Result run(List<String> command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("python did not finish: " + command);
    }
    return new Result(p.exitValue(), output);
  }
}
