package io.scoreflow.data;

import io.scoreflow.InvalidInputException;
import io.scoreflow.math.KeyedRandom;
import java.util.Objects;

/**
 * Samples of the isotropic Gaussian {@code N(m·1, s²·I)}: the data law of the project's Gaussian
 * oracle, for which the exact score is known. Sample {@code i} is a pure function of (seed, i), so
 * that any sample is regenerated on any worker without state and a "dataset" of a million samples
 * costs no memory.
 */
public final class GaussianData implements Dataset {
  private final SampleShape shape;
  private final double mean;
  private final double std;
  private final long seed;
  private final int size;

  private GaussianData(Builder b) {
    this.shape = b.shape;
    this.mean = b.mean;
    this.std = b.std;
    this.seed = b.seed;
    this.size = b.size;
  }

  public static Builder builder() {
    return new Builder();
  }

  public double mean() {
    return mean;
  }

  public double std() {
    return std;
  }

  public long seed() {
    return seed;
  }

  @Override
  public String description() {
    return "Gaussian N(" + mean + "·1, " + std + "²·I), " + shape + ", " + size + " samples";
  }

  @Override
  public SampleShape shape() {
    return shape;
  }

  @Override
  public int size() {
    return size;
  }

  @Override
  public void read(int index, float[] dest, int offset) {
    Objects.checkIndex(index, size);
    int n = shape.size();
    Objects.checkFromIndexSize(offset, n, dest.length);
    KeyedRandom random = KeyedRandom.of(seed, KeyedRandom.SAMPLE, index);
    for (int i = 0; i < n; i++) {
      dest[offset + i] = (float) (mean + std * random.nextGaussian());
    }
  }

  @Override
  public String toString() {
    return description();
  }

  /** Options; {@code dimension} (or {@code shape}) and {@code size} must be set. */
  public static final class Builder {
    private SampleShape shape;
    private double mean = 0;
    private double std = 1;
    private long seed = 0;
    private int size = -1;

    private Builder() {}

    /** Vectors of {@code d} coordinates. */
    public Builder dimension(int d) {
      InvalidInputException.require(d >= 1, "Gaussian data: dimension must be ≥ 1, got %d", d);
      this.shape = SampleShape.vector(d);
      return this;
    }

    /** Any sample shape, e.g. an image shape to feed an image network with Gaussian data. */
    public Builder shape(SampleShape shape) {
      this.shape = Objects.requireNonNull(shape);
      return this;
    }

    public Builder mean(double mean) {
      this.mean = mean;
      return this;
    }

    public Builder std(double std) {
      this.std = std;
      return this;
    }

    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** Samples per epoch. */
    public Builder size(int size) {
      this.size = size;
      return this;
    }

    public GaussianData build() {
      InvalidInputException.require(shape != null, "Gaussian data: dimension must be set");
      InvalidInputException.require(size >= 1, "Gaussian data: size must be ≥ 1, got %d", size);
      InvalidInputException.require(
          Double.isFinite(mean), "Gaussian data: mean must be finite, got %s", mean);
      InvalidInputException.require(
          Double.isFinite(std) && std >= 0, "Gaussian data: std must be ≥ 0, got %s", std);
      return new GaussianData(this);
    }
  }
}
