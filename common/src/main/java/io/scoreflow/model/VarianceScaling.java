package io.scoreflow.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.scoreflow.math.NativeArrays;
import java.util.SplittableRandom;

/**
 * score_sde's {@code default_init(scale)}: JAX-style variance scaling, mode {@code fan_avg},
 * uniform distribution, fans taken with {@code in_axis=1, out_axis=0}. As in the reference, a scale
 * of 0 becomes 1e-10 (tiny, not exactly zero).
 */
final class VarianceScaling implements SeededInitializer {
  private final double scale;
  private final long seed;

  VarianceScaling(double scale) {
    this(scale, 0L);
  }

  private VarianceScaling(double scale, long seed) {
    this.scale = scale == 0 ? 1e-10 : scale;
    this.seed = seed;
  }

  @Override
  public SeededInitializer withSeed(long newSeed) {
    return new VarianceScaling(scale, newSeed);
  }

  /** Half-width of the uniform distribution for a tensor of this shape. */
  double limit(Shape shape) {
    if (shape.dimension() < 2) {
      throw new IllegalArgumentException("variance scaling needs at least 2 dims, got " + shape);
    }
    double receptive = (double) shape.size() / shape.get(1) / shape.get(0);
    double fanIn = shape.get(1) * receptive;
    double fanOut = shape.get(0) * receptive;
    double variance = scale / ((fanIn + fanOut) / 2);
    return Math.sqrt(3 * variance);
  }

  @Override
  public NDArray initialize(NDManager manager, Shape shape, DataType dataType) {
    double limit = limit(shape);
    SplittableRandom rnd = new SplittableRandom(seed);
    float[] v = new float[Math.toIntExact(shape.size())];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) ((rnd.nextDouble() * 2 - 1) * limit);
    }
    return NativeArrays.copyOf(manager, v, shape).toType(dataType, false);
  }
}
