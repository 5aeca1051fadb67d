package io.scoreflow.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.scoreflow.data.Dataset;
import io.scoreflow.data.SampleShape;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The training evaluation's KID beside FID, on the tiny stand-in Inception net of {@link
 * InceptionNetTest}: the value is KID between the samples' and the reference images' features, and
 * the reference features are cached so that a later evaluation gives the same number without the
 * dataset.
 */
class SampleQualityKidTest {

  @TempDir Path dir;

  private static final SampleShape.Image SHAPE = (SampleShape.Image) SampleShape.image(3, 8, 8);

  private static float[] images(int count, long seed, float shift) {
    Random r = new Random(seed);
    float[] x = new float[count * SHAPE.size()];
    for (int i = 0; i < x.length; i++) {
      x[i] = Math.min(1f, Math.max(0f, shift + 0.25f * (float) r.nextGaussian()));
    }
    return x;
  }

  /** An in-memory dataset of 3×8×8 images in [0, 1]. */
  private static Dataset dataset(float[] x, int count) {
    return new Dataset() {
      @Override
      public String description() {
        return "test images";
      }

      @Override
      public SampleShape shape() {
        return SHAPE;
      }

      @Override
      public int size() {
        return count;
      }

      @Override
      public void read(int index, float[] dest, int offset) {
        System.arraycopy(x, index * SHAPE.size(), dest, offset, SHAPE.size());
      }
    };
  }

  @Test
  void kidIsMeasuredBesideFidAndItsReferenceIsCached() throws Exception {
    Path net = dir.resolve("tiny-inception.pt");
    try (InputStream in = getClass().getResourceAsStream("/reference/tiny-inception.pt")) {
      Files.copy(in, net, StandardCopyOption.REPLACE_EXISTING);
    }
    Config config =
        ConfigFactory.parseMap(
                Map.of(
                    "scoreflow.data.source",
                    "folder",
                    "scoreflow.data.sample-shape",
                    java.util.List.of(3, 8, 8),
                    "scoreflow.eval.inception",
                    net.toString(),
                    "scoreflow.eval.reference-samples",
                    30))
            .withFallback(ConfigFactory.defaultReference())
            .resolve();
    float[] reference = images(30, 1, 0.5f);
    float[] samples = images(20, 2, 0.3f);
    Path cache = dir.resolve("eval");
    SampleQuality quality = SampleQuality.of(config, () -> dataset(reference, 30), cache);
    SampleQuality.Measurement m = quality.measure(samples, 20);
    assertEquals(SampleQuality.Kind.FID, m.kind());

    double expected;
    try (InceptionNet inception = InceptionNet.load(net, Device.cpu());
        NDManager manager = NDManager.newBaseManager()) {
      InceptionNet.Outputs a = inception.run(samples, SHAPE, 20, 50);
      InceptionNet.Outputs b = inception.run(reference, SHAPE, 30, 50);
      float[] rows = new float[b.features().length];
      for (int i = 0; i < rows.length; i++) {
        rows[i] = (float) b.features()[i]; // the cache holds float32
      }
      expected =
          KernelInceptionDistance.between(
                  manager.create(a.features(), new Shape(20, a.dim())),
                  manager.create(rows, new Shape(30, b.dim())),
                  1000,
                  100,
                  0,
                  k -> {})
              .kid();
    }
    assertEquals(expected, m.kid(), 1e-12 * Math.abs(expected));
    assertTrue(m.kid() > 0, "shifted images: KID " + m.kid());
    Path cached = cache.resolve("reference-inception-v3-features.safetensors");
    assertTrue(Files.isRegularFile(cached));
    // A new evaluation reads the cache: no dataset needed.
    SampleQuality again =
        SampleQuality.of(
            config,
            () -> {
              throw new AssertionError("the dataset must not be opened again");
            },
            cache);
    assertEquals(m.kid(), again.measure(samples, 20).kid());
  }
}
