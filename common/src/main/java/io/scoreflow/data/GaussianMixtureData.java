package io.scoreflow.data;

import io.scoreflow.InvalidInputException;
import io.scoreflow.math.KeyedRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Samples of a mixture of isotropic Gaussians {@code Σ_k w_k N(μ_k, s_k²·I)} in d dimensions. As
 * for {@link GaussianData}, sample {@code i} is a pure function of (seed, i): its component and its
 * noise come from one keyed stream.
 */
public final class GaussianMixtureData implements Dataset {
  private final SampleShape.Vector shape;
  private final List<Component> components;
  private final double[] cumulative;
  private final long seed;
  private final int size;

  /**
   * One component of the mixture.
   *
   * @param weight relative weight (the mixture normalises the weights to sum to 1)
   * @param mean the mean vector, of the mixture's dimension
   * @param std the standard deviation of every coordinate
   */
  public record Component(double weight, double[] mean, double std) {
    public Component {
      mean = mean.clone();
    }

    @Override
    public double[] mean() {
      return mean.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Component c
          && Double.compare(weight, c.weight) == 0
          && Double.compare(std, c.std) == 0
          && Arrays.equals(mean, c.mean);
    }

    @Override
    public int hashCode() {
      return Objects.hash(weight, std, Arrays.hashCode(mean));
    }

    @Override
    public String toString() {
      return weight + "·N(" + Arrays.toString(mean) + ", " + std + "²I)";
    }
  }

  private GaussianMixtureData(
      SampleShape.Vector shape, List<Component> components, long seed, int size) {
    this.shape = shape;
    this.components = List.copyOf(components);
    this.seed = seed;
    this.size = size;
    double total = 0;
    for (Component c : components) {
      total += c.weight();
    }
    this.cumulative = new double[components.size()];
    double sum = 0;
    for (int k = 0; k < components.size(); k++) {
      sum += components.get(k).weight() / total;
      cumulative[k] = sum;
    }
    cumulative[cumulative.length - 1] = 1.0; // no gap from rounding at the top
  }

  public static Builder builder() {
    return new Builder();
  }

  public List<Component> components() {
    return components;
  }

  /** The component that sample {@code index} was drawn from. */
  public int componentOf(int index) {
    Objects.checkIndex(index, size);
    return pick(KeyedRandom.of(seed, KeyedRandom.SAMPLE, index));
  }

  @Override
  public String description() {
    return "Gaussian mixture of "
        + components.size()
        + " components, "
        + shape
        + ", "
        + size
        + " samples";
  }

  @Override
  public SampleShape.Vector shape() {
    return shape;
  }

  @Override
  public int size() {
    return size;
  }

  @Override
  public void read(int index, float[] dest, int offset) {
    Objects.checkIndex(index, size);
    int d = shape.dimension();
    Objects.checkFromIndexSize(offset, d, dest.length);
    KeyedRandom random = KeyedRandom.of(seed, KeyedRandom.SAMPLE, index);
    Component c = components.get(pick(random));
    double[] mean = c.mean;
    for (int i = 0; i < d; i++) {
      dest[offset + i] = (float) (mean[i] + c.std() * random.nextGaussian());
    }
  }

  /** Draws the component: the first draw of the sample's stream, so the noise follows it. */
  private int pick(KeyedRandom random) {
    double u = random.nextDouble();
    for (int k = 0; k < cumulative.length; k++) {
      if (u < cumulative[k]) {
        return k;
      }
    }
    return cumulative.length - 1;
  }

  @Override
  public String toString() {
    return description();
  }

  /** Options: {@code dimension}, at least one component, and {@code size} must be set. */
  public static final class Builder {
    private int dimension = -1;
    private final List<Component> components = new ArrayList<>();
    private long seed = 0;
    private int size = -1;

    private Builder() {}

    public Builder dimension(int d) {
      this.dimension = d;
      return this;
    }

    public Builder component(double weight, double[] mean, double std) {
      components.add(new Component(weight, mean, std));
      return this;
    }

    /** A component centred at {@code mean·1}. Needs {@link #dimension} set first. */
    public Builder component(double weight, double mean, double std) {
      InvalidInputException.require(
          dimension >= 1, "Gaussian mixture: set the dimension before a scalar-mean component");
      double[] m = new double[dimension];
      Arrays.fill(m, mean);
      return component(weight, m, std);
    }

    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    public Builder size(int size) {
      this.size = size;
      return this;
    }

    public GaussianMixtureData build() {
      InvalidInputException.require(
          dimension >= 1, "Gaussian mixture: dimension must be ≥ 1, got %d", dimension);
      InvalidInputException.require(
          !components.isEmpty(), "Gaussian mixture: needs at least one component");
      InvalidInputException.require(size >= 1, "Gaussian mixture: size must be ≥ 1, got %d", size);
      for (int k = 0; k < components.size(); k++) {
        Component c = components.get(k);
        InvalidInputException.require(
            Double.isFinite(c.weight()) && c.weight() > 0,
            "Gaussian mixture: component %d has weight %s, weights must be > 0",
            k,
            c.weight());
        InvalidInputException.require(
            c.mean.length == dimension,
            "Gaussian mixture: component %d has a mean of dimension %d, expected %d",
            k,
            c.mean.length,
            dimension);
        for (double m : c.mean) {
          InvalidInputException.require(
              Double.isFinite(m), "Gaussian mixture: component %d has a non-finite mean", k);
        }
        InvalidInputException.require(
            Double.isFinite(c.std()) && c.std() >= 0,
            "Gaussian mixture: component %d has std %s, it must be ≥ 0",
            k,
            c.std());
      }
      return new GaussianMixtureData(SampleShape.vector(dimension), components, seed, size);
    }
  }
}
