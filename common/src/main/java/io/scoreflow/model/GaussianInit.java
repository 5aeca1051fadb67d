package io.scoreflow.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.scoreflow.math.NativeArrays;
import java.util.SplittableRandom;

/** Seeded {@code randn(shape) * scale}, as for the Gaussian Fourier projection weights. */
final class GaussianInit implements SeededInitializer {
  private final double scale;
  private final long seed;

  GaussianInit(double scale) {
    this(scale, 0L);
  }

  private GaussianInit(double scale, long seed) {
    this.scale = scale;
    this.seed = seed;
  }

  @Override
  public SeededInitializer withSeed(long newSeed) {
    return new GaussianInit(scale, newSeed);
  }

  @Override
  public NDArray initialize(NDManager manager, Shape shape, DataType dataType) {
    SplittableRandom rnd = new SplittableRandom(seed);
    float[] v = new float[Math.toIntExact(shape.size())];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (rnd.nextGaussian() * scale);
    }
    return NativeArrays.copyOf(manager, v, shape).toType(dataType, false);
  }
}
