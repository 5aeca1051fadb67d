package io.scoreflow.eval;

import io.scoreflow.data.SampleShape;

/**
 * The fallback feature space for images when no Inception network is given: each channel
 * average-pooled to at most 8×8 (adaptive pooling, as {@code torch.nn.AdaptiveAvgPool2d}), values
 * in [0, 1]. A Fréchet distance here compares coarse colour and layout statistics; it is reported
 * under its own name ({@value #NAME}), never as FID.
 */
public final class PooledPixels {

  public static final String NAME = "pooled-pixels-8x8";
  private static final int SIDE = 8;

  private PooledPixels() {}

  /** Feature dimension for images of {@code shape}. */
  public static int dimension(SampleShape.Image shape) {
    return shape.channels() * Math.min(SIDE, shape.height()) * Math.min(SIDE, shape.width());
  }

  /** Features of {@code count} images (N×C×H×W in [0, 1], clamped), row-major N × dimension. */
  public static double[] features(float[] images, SampleShape.Image shape, int count) {
    int c = shape.channels();
    int h = shape.height();
    int w = shape.width();
    int oh = Math.min(SIDE, h);
    int ow = Math.min(SIDE, w);
    int dim = c * oh * ow;
    double[] out = new double[count * dim];
    for (int n = 0; n < count; n++) {
      for (int ch = 0; ch < c; ch++) {
        int plane = (n * c + ch) * h * w;
        for (int i = 0; i < oh; i++) {
          int y0 = i * h / oh;
          int y1 = ((i + 1) * h + oh - 1) / oh;
          for (int j = 0; j < ow; j++) {
            int x0 = j * w / ow;
            int x1 = ((j + 1) * w + ow - 1) / ow;
            double sum = 0;
            for (int y = y0; y < y1; y++) {
              for (int x = x0; x < x1; x++) {
                sum += Math.min(1f, Math.max(0f, images[plane + y * w + x]));
              }
            }
            out[n * dim + (ch * oh + i) * ow + j] = sum / ((y1 - y0) * (x1 - x0));
          }
        }
      }
    }
    return out;
  }
}
