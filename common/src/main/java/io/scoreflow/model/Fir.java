package io.scoreflow.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.scoreflow.InvalidInputException;
import io.scoreflow.math.NativeArrays;
import java.util.List;

/**
 * StyleGAN2's FIR resampling by a factor of 2, as score_sde uses it ({@code upsample_2d}, {@code
 * downsample_2d}, {@code upsample_conv_2d}, {@code conv_downsample_2d} over {@code upfirdn2d}),
 * rewritten with the ops DJL has.
 *
 * <p>Downsampling is a strided depthwise convolution. The PyTorch engine of DJL has no transposed
 * convolution, so upsampling uses the polyphase form: each of the four output phases (even/odd row
 * × even/odd column) is an ordinary convolution of the input with a sub-kernel, the four results
 * are computed as one convolution with four times the output channels, and a pixel shuffle
 * interleaves them. This costs the same as the reference's fused transposed convolution and is
 * exact (no zero-stuffed intermediate). For the learned variant the sub-kernels are cut from the
 * full convolution of the FIR kernel with the 3x3 weights, recomputed (differentiably) per call.
 */
final class Fir {
  private final float[] k1;

  /** A separable FIR filter from its 1-D taps, e.g. {@code [1, 3, 3, 1]}. */
  Fir(List<? extends Number> kernel) {
    InvalidInputException.require(
        kernel.size() >= 2 && kernel.size() % 2 == 0,
        "fir_kernel must have an even number (>= 2) of taps, got %s",
        kernel);
    k1 = new float[kernel.size()];
    double sum = 0;
    for (int i = 0; i < k1.length; i++) {
      k1[i] = kernel.get(i).floatValue();
      sum += k1[i];
    }
    InvalidInputException.require(sum != 0, "fir_kernel taps must not sum to 0: %s", kernel);
  }

  private int taps() {
    return k1.length;
  }

  /** {@code _setup_kernel(k) * gain}: outer product, normalized to sum 1, times gain (float32). */
  private float[][] kernel2d(double gain) {
    int n = k1.length;
    float[][] k = new float[n][n];
    float sum = 0;
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        k[i][j] = k1[i] * k1[j];
        sum += k[i][j];
      }
    }
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        k[i][j] = (float) (k[i][j] / sum * gain);
      }
    }
    return k;
  }

  private static float[][] flip(float[][] k) {
    int n = k.length;
    float[][] f = new float[n][n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        f[i][j] = k[n - 1 - i][n - 1 - j];
      }
    }
    return f;
  }

  /** {@code upsample_2d(x, k, factor=2)}: (B, C, H, W) to (B, C, 2H, 2W). */
  NDArray upsample(NDArray x) {
    int n = taps();
    int p = n - 2;
    // upfirdn2d convolves (flipped correlation) a zero-stuffed input padded by padLo in front.
    Phases ph = new Phases(n, Math.floorDiv(p + 1, 2) + 1);
    float[][] corr = flip(kernel2d(4.0));
    long c = x.getShape().get(1);
    int s = ph.size();
    float[] w = new float[Math.toIntExact(c * 4 * s * s)];
    for (int ch = 0; ch < c; ch++) {
      for (int a = 0; a < 2; a++) {
        for (int b = 0; b < 2; b++) {
          int base = ((ch * 4) + a * 2 + b) * s * s;
          for (int ty = ph.first[a]; ty < n; ty += 2) {
            for (int tx = ph.first[b]; tx < n; tx += 2) {
              int dy = ph.offset(a, ty) + ph.pad;
              int dx = ph.offset(b, tx) + ph.pad;
              w[base + dy * s + dx] = corr[ty][tx];
            }
          }
        }
      }
    }
    try (NDArray weight = NativeArrays.copyOf(x.getManager(), w, new Shape(c * 4, 1, s, s));
        NDArray y = conv(x, weight, 1, ph.pad, (int) c)) {
      return shuffle(y, c);
    }
  }

  /** {@code downsample_2d(x, k, factor=2)}: (B, C, H, W) to (B, C, H/2, W/2). */
  NDArray downsample(NDArray x) {
    int n = taps();
    int p = n - 2; // even, so the padding (p+1)/2, p/2 is symmetric
    float[][] corr = flip(kernel2d(1.0));
    long c = x.getShape().get(1);
    try (NDArray weight = depthwise(x.getManager(), corr, c)) {
      return conv(x, weight, 2, p / 2, (int) c);
    }
  }

  /**
   * {@code upsample_conv_2d(x, w, k, factor=2)}: a transposed 3x3 (odd) convolution with stride 2
   * followed by the FIR filter; {@code w} is (out, in, K, K) in PyTorch's conv layout.
   */
  NDArray upsampleConv(NDArray x, NDArray w) {
    Shape ws = w.getShape();
    long out = ws.get(0);
    long in = ws.get(1);
    int k = (int) ws.get(2);
    int n = taps();
    int p = (n - 2) - (k - 1);
    int padLo = Math.floorDiv(p + 1, 2) + 1 + (k - 1);
    int t = k + n - 1;
    Phases ph = new Phases(t, padLo);
    // Correlation kernel of the composition: full convolution of flip(kfir) with w, computed
    // as a correlation of w (padded by n-1) with the FIR kernel itself.
    float[][] fir = kernel2d(4.0);
    float[] firFlat = new float[n * n];
    for (int i = 0; i < n; i++) {
      System.arraycopy(fir[i], 0, firFlat, i * n, n);
    }
    NDList phases = new NDList(4);
    try (NDArray firW = NativeArrays.copyOf(x.getManager(), firFlat, new Shape(1, 1, n, n));
        NDArray wb = w.reshape(out * in, 1, k, k);
        NDArray full = conv(wb, firW, 1, n - 1, 1);
        NDArray kc = full.reshape(out, in, t, t)) {
      int s = ph.size();
      for (int a = 0; a < 2; a++) {
        for (int b = 0; b < 2; b++) {
          NDArray sub = kc.get(new NDIndex(":, :, {}::2, {}::2", ph.first[a], ph.first[b]));
          int ny = (int) sub.getShape().get(2);
          int nx = (int) sub.getShape().get(3);
          int y0 = ph.offset(a, ph.first[a]) + ph.pad;
          int x0 = ph.offset(b, ph.first[b]) + ph.pad;
          if (ny != s || nx != s) {
            NDArray padded = sub.pad(new Shape(x0, s - x0 - nx, y0, s - y0 - ny), 0);
            sub.close();
            sub = padded;
          }
          phases.add(sub);
        }
      }
      try (NDArray stacked = NDArrays.stack(phases, 1);
          NDArray weight = stacked.reshape(out * 4, in, s, s);
          NDArray y = conv(x, weight, 1, ph.pad, 1)) {
        return shuffle(y, out);
      }
    } finally {
      phases.close();
    }
  }

  /**
   * {@code conv_downsample_2d(x, w, k, factor=2)}: the FIR filter, then a stride-2 convolution with
   * {@code w} (out, in, K, K).
   */
  NDArray convDownsample(NDArray x, NDArray w) {
    int k = (int) w.getShape().get(2);
    int n = taps();
    int p = (n - 2) + (k - 1);
    long c = x.getShape().get(1);
    float[][] corr = flip(kernel2d(1.0));
    try (NDArray fw = depthwise(x.getManager(), corr, c)) {
      NDArray filtered;
      if (p % 2 == 0) {
        filtered = conv(x, fw, 1, p / 2, (int) c);
      } else {
        try (NDArray padded = x.pad(new Shape((p + 1) / 2, p / 2, (p + 1) / 2, p / 2), 0)) {
          filtered = conv(padded, fw, 1, 0, (int) c);
        }
      }
      try (filtered) {
        return conv(filtered, w, 2, 0, 1);
      }
    }
  }

  private static NDArray depthwise(NDManager m, float[][] k, long c) {
    int n = k.length;
    float[] w = new float[Math.toIntExact(c * n * n)];
    for (int ch = 0; ch < c; ch++) {
      for (int i = 0; i < n; i++) {
        System.arraycopy(k[i], 0, w, (ch * n + i) * n, n);
      }
    }
    return NativeArrays.copyOf(m, w, new Shape(c, 1, n, n));
  }

  static NDArray conv(NDArray x, NDArray w, int stride, int pad, int groups) {
    return x.getNDArrayInternal()
        .convolution(
            x, w, null, new Shape(stride, stride), new Shape(pad, pad), new Shape(1, 1), groups)
        .singletonOrThrow();
  }

  /** (B, 4C, H, W) with channels ordered (c, row phase, column phase) to (B, C, 2H, 2W). */
  private static NDArray shuffle(NDArray y, long c) {
    Shape s = y.getShape();
    long b = s.get(0);
    long h = s.get(2);
    long w = s.get(3);
    try (NDArray v = y.reshape(b, c, 2, 2, h, w);
        NDArray t = v.transpose(0, 1, 4, 2, 5, 3)) {
      return t.reshape(b, c, 2 * h, 2 * w);
    }
  }

  /**
   * The polyphase split of a correlation kernel of {@code t} taps applied to a zero-stuffed input
   * padded by {@code padLo}: output {@code 2i + a} takes taps {@code first[a], first[a] + 2, ...},
   * tap {@code j} reading input {@code i + offset(a, j)}. {@code pad} is the symmetric padding that
   * covers every offset, {@code size() = 2 pad + 1} the sub-kernel size.
   */
  private static final class Phases {
    final int padLo;
    final int[] first = new int[2];
    final int pad;

    Phases(int t, int padLo) {
      this.padLo = padLo;
      int maxAbs = 0;
      for (int a = 0; a < 2; a++) {
        first[a] = Math.floorMod(padLo - a, 2);
        for (int j = first[a]; j < t; j += 2) {
          maxAbs = Math.max(maxAbs, Math.abs(offset(a, j)));
        }
      }
      pad = maxAbs;
    }

    int offset(int a, int tap) {
      return (a + tap - padLo) / 2;
    }

    int size() {
      return 2 * pad + 1;
    }
  }
}
