package io.scoreflow.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link Fir} against a literal, loop-by-loop port of the reference: {@code upfirdn2d_native}
 * (zero-stuff, pad or crop, convolve with the flipped kernel, subsample) and {@code
 * conv_transpose2d}, composed exactly as {@code up_or_down_sampling.py} composes them.
 */
class FirTest {
  static final int B = 2;
  static final int C = 3;
  static final int O = 4;
  static final int H = 6;
  static final int K = 3;

  // ------------------------------------------------------------ naive reference

  static float[][] setupKernel(int[] k, double gain) {
    int n = k.length;
    float[][] out = new float[n][n];
    double sum = 0;
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        sum += (double) k[i] * k[j];
      }
    }
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        out[i][j] = (float) (k[i] * k[j] / sum * gain);
      }
    }
    return out;
  }

  /** upfirdn2d_native on one (H, W) plane, the same pad for both axes. */
  static float[][] upfirdn(float[][] x, float[][] k, int up, int down, int pad0, int pad1) {
    int h = x.length;
    int w = x[0].length;
    int uh = h * up;
    int uw = w * up;
    int ph = uh + pad0 + pad1;
    int pw = uw + pad0 + pad1;
    float[][] p = new float[ph][pw];
    for (int i = 0; i < ph; i++) {
      for (int j = 0; j < pw; j++) {
        int si = i - pad0;
        int sj = j - pad0;
        if (si >= 0 && si < uh && sj >= 0 && sj < uw && si % up == 0 && sj % up == 0) {
          p[i][j] = x[si / up][sj / up];
        }
      }
    }
    int kh = k.length;
    int oh = ph - kh + 1;
    int ow = pw - kh + 1;
    float[][] full = new float[oh][ow];
    for (int i = 0; i < oh; i++) {
      for (int j = 0; j < ow; j++) {
        double s = 0;
        for (int a = 0; a < kh; a++) {
          for (int b = 0; b < kh; b++) {
            s += k[kh - 1 - a][kh - 1 - b] * p[i + a][j + b];
          }
        }
        full[i][j] = (float) s;
      }
    }
    float[][] out = new float[(oh + down - 1) / down][(ow + down - 1) / down];
    for (int i = 0; i < out.length; i++) {
      for (int j = 0; j < out[0].length; j++) {
        out[i][j] = full[i * down][j * down];
      }
    }
    return out;
  }

  static float[][][][] perPlane(float[][][][] x, java.util.function.UnaryOperator<float[][]> f) {
    float[][][][] out = new float[x.length][x[0].length][][];
    for (int b = 0; b < x.length; b++) {
      for (int c = 0; c < x[0].length; c++) {
        out[b][c] = f.apply(x[b][c]);
      }
    }
    return out;
  }

  /** F.conv_transpose2d(x, W, stride) with W[i][o] = flip(w[o][i]), as upsample_conv_2d does. */
  static float[][][][] convTranspose(float[][][][] x, float[][][][] w, int stride) {
    int h = x[0][0].length;
    int size = (h - 1) * stride + K;
    float[][][][] out = new float[x.length][O][size][size];
    for (int b = 0; b < x.length; b++) {
      for (int i = 0; i < C; i++) {
        for (int q = 0; q < h; q++) {
          for (int r = 0; r < h; r++) {
            for (int o = 0; o < O; o++) {
              for (int u = 0; u < K; u++) {
                for (int v = 0; v < K; v++) {
                  out[b][o][stride * q + u][stride * r + v] +=
                      x[b][i][q][r] * w[o][i][K - 1 - u][K - 1 - v];
                }
              }
            }
          }
        }
      }
    }
    return out;
  }

  static float[][][][] conv2d(float[][][][] x, float[][][][] w, int stride) {
    int h = x[0][0].length;
    int oh = (h - K) / stride + 1;
    float[][][][] out = new float[x.length][O][oh][oh];
    for (int b = 0; b < x.length; b++) {
      for (int o = 0; o < O; o++) {
        for (int i = 0; i < oh; i++) {
          for (int j = 0; j < oh; j++) {
            double s = 0;
            for (int c = 0; c < C; c++) {
              for (int u = 0; u < K; u++) {
                for (int v = 0; v < K; v++) {
                  s += w[o][c][u][v] * x[b][c][stride * i + u][stride * j + v];
                }
              }
            }
            out[b][o][i][j] = (float) s;
          }
        }
      }
    }
    return out;
  }

  // ------------------------------------------------------------ helpers

  static float[][][][] random(Random rnd, int a, int b, int c, int d) {
    float[][][][] x = new float[a][b][c][d];
    for (float[][][] x1 : x) {
      for (float[][] x2 : x1) {
        for (float[] x3 : x2) {
          for (int i = 0; i < d; i++) {
            x3[i] = (float) rnd.nextGaussian();
          }
        }
      }
    }
    return x;
  }

  static NDArray toNd(NDManager m, float[][][][] x) {
    int a = x.length;
    int b = x[0].length;
    int c = x[0][0].length;
    int d = x[0][0][0].length;
    float[] flat = new float[a * b * c * d];
    int n = 0;
    for (float[][][] x1 : x) {
      for (float[][] x2 : x1) {
        for (float[] x3 : x2) {
          for (float v : x3) {
            flat[n++] = v;
          }
        }
      }
    }
    return m.create(flat, new Shape(a, b, c, d));
  }

  static void assertClose(float[][][][] want, NDArray got) {
    assertEquals(
        new Shape(want.length, want[0].length, want[0][0].length, want[0][0][0].length),
        got.getShape());
    float[] flat = got.toFloatArray();
    float[] w;
    try (NDManager m = NDManager.newBaseManager()) {
      w = toNd(m, want).toFloatArray();
    }
    assertArrayEquals(w, flat, 1e-4f);
  }

  static List<Integer> list(int[] k) {
    return java.util.Arrays.stream(k).boxed().toList();
  }

  static int[] kernel(int which) {
    switch (which) {
      case 0:
        return new int[] {1, 3, 3, 1};
      case 1:
        return new int[] {1, 2, 3, 4}; // asymmetric: catches a missing flip
      case 2:
        return new int[] {1, 1}; // negative pads (crop) in upsample_conv_2d
      default:
        return new int[] {1, 5, 10, 10, 5, 1};
    }
  }

  // ------------------------------------------------------------ tests

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2, 3})
  void upsampleMatchesUpfirdn(int which) {
    int[] k = kernel(which);
    Random rnd = new Random(1);
    float[][][][] x = random(rnd, B, C, H, H);
    int p = k.length - 2;
    float[][] k2 = setupKernel(k, 4);
    float[][][][] want =
        perPlane(x, plane -> upfirdn(plane, k2, 2, 1, Math.floorDiv(p + 1, 2) + 1, p / 2));
    try (NDManager m = NDManager.newBaseManager()) {
      assertClose(want, new Fir(list(k)).upsample(toNd(m, x)));
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2, 3})
  void downsampleMatchesUpfirdn(int which) {
    int[] k = kernel(which);
    Random rnd = new Random(2);
    float[][][][] x = random(rnd, B, C, H, H);
    int p = k.length - 2;
    float[][] k2 = setupKernel(k, 1);
    float[][][][] want =
        perPlane(x, plane -> upfirdn(plane, k2, 1, 2, Math.floorDiv(p + 1, 2), p / 2));
    try (NDManager m = NDManager.newBaseManager()) {
      assertClose(want, new Fir(list(k)).downsample(toNd(m, x)));
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2, 3})
  void upsampleConvMatchesTransposedConvThenUpfirdn(int which) {
    int[] k = kernel(which);
    Random rnd = new Random(3);
    float[][][][] x = random(rnd, B, C, H, H);
    float[][][][] w = random(rnd, O, C, K, K);
    int p = (k.length - 2) - (K - 1);
    float[][] k2 = setupKernel(k, 4);
    float[][][][] t = convTranspose(x, w, 2);
    float[][][][] want =
        perPlane(t, plane -> upfirdn(plane, k2, 1, 1, Math.floorDiv(p + 1, 2) + 1, p / 2 + 1));
    try (NDManager m = NDManager.newBaseManager()) {
      assertClose(want, new Fir(list(k)).upsampleConv(toNd(m, x), toNd(m, w)));
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2, 3})
  void convDownsampleMatchesUpfirdnThenStridedConv(int which) {
    int[] k = kernel(which);
    Random rnd = new Random(4);
    float[][][][] x = random(rnd, B, C, H, H);
    float[][][][] w = random(rnd, O, C, K, K);
    int p = (k.length - 2) + (K - 1);
    float[][] k2 = setupKernel(k, 1);
    float[][][][] f = perPlane(x, plane -> upfirdn(plane, k2, 1, 1, (p + 1) / 2, p / 2));
    float[][][][] want = conv2d(f, w, 2);
    try (NDManager m = NDManager.newBaseManager()) {
      assertClose(want, new Fir(list(k)).convDownsample(toNd(m, x), toNd(m, w)));
    }
  }
}
