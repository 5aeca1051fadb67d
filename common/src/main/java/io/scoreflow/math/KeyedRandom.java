package io.scoreflow.math;

/**
 * Random numbers that are a pure function of integer keys, so that "the flip of sample 17 in epoch
 * 3" or "synthetic sample 12345" can be recomputed anywhere (another worker, a resumed run) without
 * carrying generator state. The stream is SplitMix64 (Steele, Lea and Flood 2014), started from a
 * hash of the keys; it is fixed here rather than borrowed from {@code java.util.Random} or {@code
 * SplittableRandom.nextGaussian()} because checkpoints resumed on another JDK must see the same
 * data.
 *
 * <p>Not thread-safe: one instance per sample or per epoch, which is cheap.
 */
public final class KeyedRandom {
  private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

  /** Domain tags, so that the shuffle, the flips and synthetic samples never share a stream. */
  public static final long SHUFFLE = 0x5348_5546_464CL;

  public static final long FLIP = 0x464C_4950L;
  public static final long SAMPLE = 0x5341_4D50_4C45L;

  /** Denoising score matching: the diffusion time of a training sample, and its noise. */
  public static final long DSM_TIME = 0x4453_4D54L;

  public static final long DSM_NOISE = 0x4453_4D4EL;

  private long state;
  private double spareGaussian;
  private boolean hasSpareGaussian;

  private KeyedRandom(long state) {
    this.state = state;
  }

  /** A stream determined by the keys (order matters). */
  public static KeyedRandom of(long... keys) {
    return new KeyedRandom(hash(keys));
  }

  /** A 64-bit hash of the keys in which every key bit affects every output bit. */
  public static long hash(long... keys) {
    long h = 0x243F_6A88_85A3_08D3L; // digits of pi: any fixed non-zero start
    for (long key : keys) {
      h = mix(h ^ mix(key + GOLDEN_GAMMA));
      h += GOLDEN_GAMMA;
    }
    return mix(h);
  }

  public long nextLong() {
    state += GOLDEN_GAMMA;
    return mix(state);
  }

  /** Uniform in [0, 1), with 53 random bits. */
  public double nextDouble() {
    return (nextLong() >>> 11) * 0x1.0p-53;
  }

  /** Uniform in [0, bound), unbiased (rejection of the short last interval). */
  public int nextInt(int bound) {
    if (bound <= 0) {
      throw new IllegalArgumentException("bound must be positive, got " + bound);
    }
    long limit = (1L << 31) - ((1L << 31) % bound);
    while (true) {
      long r = nextLong() >>> 33;
      if (r < limit) {
        return (int) (r % bound);
      }
    }
  }

  /**
   * Standard normal by the Box–Muller transform. {@link StrictMath} rather than {@link Math}: the
   * latter's intrinsics may differ between JVMs in the last bit, and samples must not.
   */
  public double nextGaussian() {
    if (hasSpareGaussian) {
      hasSpareGaussian = false;
      return spareGaussian;
    }
    // 1 - u lies in (0, 1], so the logarithm is finite.
    double radius = StrictMath.sqrt(-2.0 * StrictMath.log(1.0 - nextDouble()));
    double angle = 2.0 * StrictMath.PI * nextDouble();
    spareGaussian = radius * StrictMath.sin(angle);
    hasSpareGaussian = true;
    return radius * StrictMath.cos(angle);
  }

  /** The SplitMix64 finaliser (a variant of MurmurHash3's fmix64). */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
