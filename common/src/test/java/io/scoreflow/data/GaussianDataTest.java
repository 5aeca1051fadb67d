package io.scoreflow.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoreflow.InvalidInputException;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class GaussianDataTest {

  @Test
  void sampleIsAPureFunctionOfSeedAndIndex() {
    GaussianData a = GaussianData.builder().dimension(8).mean(1).std(2).seed(5).size(100).build();
    GaussianData b = GaussianData.builder().dimension(8).mean(1).std(2).seed(5).size(100).build();
    // Read in different orders: no hidden state.
    float[] late = b.get(99);
    assertArrayEquals(a.get(99), late);
    assertArrayEquals(a.get(3), b.get(3));
    assertFalse(Arrays.equals(a.get(3), a.get(4)));
    GaussianData other =
        GaussianData.builder().dimension(8).mean(1).std(2).seed(6).size(100).build();
    assertFalse(Arrays.equals(a.get(3), other.get(3)));
  }

  @Test
  void momentsMatchTheLaw() {
    GaussianData data =
        GaussianData.builder().dimension(4).mean(-0.5).std(3).seed(1).size(20_000).build();
    double sum = 0;
    double squares = 0;
    float[] s = new float[4];
    for (int i = 0; i < data.size(); i++) {
      data.read(i, s, 0);
      for (float v : s) {
        sum += v;
        squares += v * v;
      }
    }
    int n = 4 * data.size();
    double mean = sum / n;
    double var = squares / n - mean * mean;
    // 80,000 draws: the standard error of the mean is 3/283 ≈ 0.011, of the variance ≈ 0.045.
    assertEquals(-0.5, mean, 0.05);
    assertEquals(9.0, var, 0.2);
  }

  @Test
  void imageShapedGaussianIsAllowed() {
    GaussianData data = GaussianData.builder().shape(SampleShape.image(3, 4, 4)).size(2).build();
    assertEquals(48, data.get(1).length);
  }

  @Test
  void builderNamesWhatIsWrong() {
    assertEquals(
        "Gaussian data: dimension must be set",
        assertThrows(InvalidInputException.class, () -> GaussianData.builder().size(3).build())
            .getMessage());
    assertEquals(
        "Gaussian data: size must be ≥ 1, got -1",
        assertThrows(InvalidInputException.class, () -> GaussianData.builder().dimension(2).build())
            .getMessage());
    assertThrows(
        InvalidInputException.class,
        () -> GaussianData.builder().dimension(2).size(3).std(-1).build());
    assertThrows(
        InvalidInputException.class,
        () -> GaussianData.builder().dimension(2).size(3).mean(Double.NaN).build());
    assertThrows(InvalidInputException.class, () -> GaussianData.builder().dimension(0));
  }

  @Test
  void mixtureDrawsComponentsByWeightAndSamplesAroundTheirMeans() {
    GaussianMixtureData mix =
        GaussianMixtureData.builder()
            .dimension(2)
            .component(1, new double[] {-10, 0}, 0.5)
            .component(3, new double[] {10, 5}, 0.5)
            .seed(3)
            .size(8000)
            .build();
    int[] counts = new int[2];
    float[] s = new float[2];
    for (int i = 0; i < mix.size(); i++) {
      int k = mix.componentOf(i);
      counts[k]++;
      mix.read(i, s, 0);
      // Every sample lies within 5 std of its own component's mean.
      double[] mean = mix.components().get(k).mean();
      assertTrue(Math.abs(s[0] - mean[0]) < 2.5 && Math.abs(s[1] - mean[1]) < 2.5);
    }
    // Weight 3:1 over 8000 draws: 2000 ± 39 in the first component.
    assertEquals(2000, counts[0], 200);
    assertArrayEquals(mix.get(17), mix.get(17));
  }

  @Test
  void mixtureScalarMeansAndValidation() {
    GaussianMixtureData mix =
        GaussianMixtureData.builder().dimension(3).component(1, 2.0, 0.0).size(4).build();
    assertArrayEquals(new float[] {2, 2, 2}, mix.get(0));
    InvalidInputException e =
        assertThrows(
            InvalidInputException.class,
            () ->
                GaussianMixtureData.builder()
                    .dimension(3)
                    .component(1, new double[] {1, 2}, 1)
                    .size(4)
                    .build());
    assertEquals(
        "Gaussian mixture: component 0 has a mean of dimension 2, expected 3", e.getMessage());
    assertThrows(
        InvalidInputException.class,
        () -> GaussianMixtureData.builder().dimension(1).component(0, 0.0, 1).size(4).build());
    assertThrows(
        InvalidInputException.class,
        () -> GaussianMixtureData.builder().dimension(1).component(1, 0.0, -1).size(4).build());
    assertThrows(
        InvalidInputException.class,
        () -> GaussianMixtureData.builder().dimension(1).size(4).build());
    assertThrows(
        InvalidInputException.class, () -> GaussianMixtureData.builder().component(1, 0.0, 1));
  }
}
