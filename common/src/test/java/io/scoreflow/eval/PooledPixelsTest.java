package io.scoreflow.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.scoreflow.data.SampleShape;
import org.junit.jupiter.api.Test;

class PooledPixelsTest {

  @Test
  void exactBlocksAverageToTheirMeans() {
    // 16x16 pooled to 8x8: each feature is the mean of a 2x2 block.
    SampleShape.Image shape = SampleShape.image(1, 16, 16);
    float[] image = new float[256];
    for (int y = 0; y < 16; y++) {
      for (int x = 0; x < 16; x++) {
        image[y * 16 + x] = (y * 16 + x) / 255f;
      }
    }
    double[] f = PooledPixels.features(image, shape, 1);
    assertEquals(64, f.length);
    for (int i = 0; i < 8; i++) {
      for (int j = 0; j < 8; j++) {
        double sum = 0;
        for (int dy = 0; dy < 2; dy++) {
          for (int dx = 0; dx < 2; dx++) {
            sum += image[(2 * i + dy) * 16 + 2 * j + dx];
          }
        }
        assertEquals(sum / 4, f[i * 8 + j], 1e-7);
      }
    }
  }

  @Test
  void adaptiveWindowsOverlapLikeTorch() {
    // 28 → 8 as torch's AdaptiveAvgPool2d: window i spans [floor(28i/8), ceil(28(i+1)/8)), so
    // windows 0..7 start at 0,3,7,10,14,17,21,24 and end at 4,7,11,14,18,21,25,28.
    SampleShape.Image shape = SampleShape.image(1, 28, 28);
    float[] image = new float[28 * 28];
    for (int y = 0; y < 28; y++) {
      for (int x = 0; x < 28; x++) {
        image[y * 28 + x] = x / 27f;
      }
    }
    double[] f = PooledPixels.features(image, shape, 1);
    int[] start = {0, 3, 7, 10, 14, 17, 21, 24};
    int[] end = {4, 7, 11, 14, 18, 21, 25, 28};
    for (int j = 0; j < 8; j++) {
      double mean = (start[j] + end[j] - 1) / 2.0 / 27;
      assertEquals(mean, f[3 * 8 + j], 1e-6, "column window " + j);
    }
  }

  @Test
  void clampsAndKeepsChannelsApartAndSmallImagesWhole() {
    SampleShape.Image shape = SampleShape.image(2, 4, 4);
    float[] two = new float[2 * 2 * 16];
    java.util.Arrays.fill(two, 0, 16, 2f); // image 0, channel 0: above 1 → clamped
    java.util.Arrays.fill(two, 16, 32, -1f); // image 0, channel 1: below 0 → clamped
    java.util.Arrays.fill(two, 32, 64, 0.25f); // image 1
    double[] f = PooledPixels.features(two, shape, 2);
    assertEquals(2 * 2 * 16, f.length, "4x4 stays 4x4");
    assertArrayEquals(new double[] {1, 1, 1, 1}, java.util.Arrays.copyOfRange(f, 0, 4));
    assertArrayEquals(new double[] {0, 0, 0, 0}, java.util.Arrays.copyOfRange(f, 16, 20));
    assertEquals(0.25, f[40], 1e-7);
  }
}
