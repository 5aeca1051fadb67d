package io.scoreflow.data;

import io.scoreflow.InvalidInputException;
import io.scoreflow.math.KeyedRandom;
import java.util.Objects;

/**
 * The training batches of one data-parallel worker, as score_sde draws them (shuffle, batches that
 * drop the remainder of each epoch, optional random left–right flip) but reproducible:
 *
 * <ul>
 *   <li>Epoch {@code e} visits the dataset in a permutation that depends only on (seed, e).
 *   <li>Global batch {@code b} of an epoch is the permutation's samples {@code [bB, (b+1)B)};
 *       worker {@code rank} of {@code worldSize} gets the contiguous slice {@code rank·B/W ..
 *       (rank+1)·B/W} of it. So W workers with B/W each see exactly the samples that one worker
 *       with B sees, in the same order once the shards are concatenated.
 *   <li>A sample's flip depends only on (seed, epoch, dataset index), so it does not change with
 *       the number of workers.
 *   <li>{@link #cursor()} is where the stream stands; {@link #seek} to a stored cursor and the
 *       stream continues exactly as the uninterrupted one would.
 * </ul>
 *
 * <p>Memory: one {@code int} per sample for the current epoch's permutation, never a copy of the
 * data. Not thread-safe; each worker owns its stream.
 */
public final class BatchStream {
  private final Dataset dataset;
  private final int globalBatchSize;
  private final int localBatchSize;
  private final long seed;
  private final int rank;
  private final int worldSize;
  private final boolean randomFlip;

  private DataCursor cursor;
  private int[] order;
  private long orderEpoch = -1;

  private BatchStream(Builder b) {
    this.dataset = b.dataset;
    this.globalBatchSize = b.globalBatchSize;
    this.localBatchSize = b.globalBatchSize / b.worldSize;
    this.seed = b.seed;
    this.rank = b.rank;
    this.worldSize = b.worldSize;
    this.randomFlip = b.randomFlip;
    seek(b.start);
  }

  public static Builder builder() {
    return new Builder();
  }

  public Dataset dataset() {
    return dataset;
  }

  public int globalBatchSize() {
    return globalBatchSize;
  }

  /** Samples this worker gets per step: the global batch size divided by the world size. */
  public int localBatchSize() {
    return localBatchSize;
  }

  /**
   * Full global batches per epoch; the last {@code size mod B} samples of a permutation are not
   * used.
   */
  public int batchesPerEpoch() {
    return dataset.size() / globalBatchSize;
  }

  /** Floats in one of this worker's batches, the length {@link #next(float[])} needs. */
  public int batchFloats() {
    return localBatchSize * dataset.shape().size();
  }

  /** Where the next batch starts; store it in a checkpoint. */
  public DataCursor cursor() {
    return cursor;
  }

  /**
   * Continues from {@code to}, typically a cursor from a checkpoint. A position past the last full
   * batch of its epoch moves to the start of the next epoch, as {@link #next} would.
   */
  public void seek(DataCursor to) {
    Objects.requireNonNull(to, "cursor");
    if (to.position() > dataset.size()) {
      throw new InvalidInputException(
          "data cursor ("
              + to
              + ") is beyond the "
              + dataset.size()
              + " samples of "
              + dataset.description()
              + "; was the checkpoint made with another dataset?");
    }
    this.cursor = normalise(to);
  }

  /** This worker's next batch, in a new array. */
  public Batch next() {
    return next(new float[batchFloats()]);
  }

  /**
   * This worker's next batch, written to {@code into} (at least {@link #batchFloats()} long), and
   * the cursor moved past the whole global batch.
   */
  public Batch next(float[] into) {
    if (into.length < batchFloats()) {
      throw new IllegalArgumentException(
          "batch buffer holds " + into.length + " floats, need " + batchFloats());
    }
    DataCursor at = cursor;
    int[] permutation = permutation(at.epoch());
    int sampleSize = dataset.shape().size();
    int first = at.position() + rank * localBatchSize;
    int[] indices = new int[localBatchSize];
    boolean[] flipped = new boolean[localBatchSize];
    for (int i = 0; i < localBatchSize; i++) {
      int index = permutation[first + i];
      indices[i] = index;
      dataset.read(index, into, i * sampleSize);
      if (randomFlip && flips(seed, at.epoch(), index)) {
        flipHorizontally((SampleShape.Image) dataset.shape(), into, i * sampleSize);
        flipped[i] = true;
      }
    }
    cursor = normalise(new DataCursor(at.epoch(), at.position() + globalBatchSize));
    return new Batch(at, indices, flipped, into, dataset.shape());
  }

  /** Whether sample {@code index} is mirrored in {@code epoch}: a fair coin keyed by all three. */
  static boolean flips(long seed, long epoch, int index) {
    return KeyedRandom.hash(seed, KeyedRandom.FLIP, epoch, index) < 0;
  }

  /** Mirrors one C×H×W image in place along its width, as {@code tf.image.flip_left_right}. */
  static void flipHorizontally(SampleShape.Image shape, float[] data, int offset) {
    int width = shape.width();
    int rows = shape.channels() * shape.height();
    for (int r = 0; r < rows; r++) {
      int left = offset + r * width;
      int right = left + width - 1;
      while (left < right) {
        float t = data[left];
        data[left++] = data[right];
        data[right--] = t;
      }
    }
  }

  /** The order in which epoch {@code epoch} visits the dataset: a Fisher–Yates shuffle. */
  int[] permutation(long epoch) {
    if (orderEpoch != epoch) {
      int n = dataset.size();
      if (order == null) {
        order = new int[n];
      }
      for (int i = 0; i < n; i++) {
        order[i] = i;
      }
      KeyedRandom random = KeyedRandom.of(seed, KeyedRandom.SHUFFLE, epoch);
      for (int i = n - 1; i > 0; i--) {
        int j = random.nextInt(i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
      orderEpoch = epoch;
    }
    return order;
  }

  private DataCursor normalise(DataCursor c) {
    if (c.position() + globalBatchSize > dataset.size()) {
      return new DataCursor(c.epoch() + 1, 0);
    }
    return c;
  }

  /** Options; {@code dataset} and {@code globalBatchSize} must be set. */
  public static final class Builder {
    private Dataset dataset;
    private int globalBatchSize = -1;
    private long seed = 0;
    private int rank = 0;
    private int worldSize = 1;
    private boolean randomFlip = false;
    private DataCursor start = DataCursor.START;

    private Builder() {}

    public Builder dataset(Dataset dataset) {
      this.dataset = Objects.requireNonNull(dataset);
      return this;
    }

    /** The batch size of one step summed over all workers (score_sde's {@code batch_size}). */
    public Builder globalBatchSize(int size) {
      this.globalBatchSize = size;
      return this;
    }

    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** This worker's place among {@code worldSize} data-parallel workers; default (0, 1). */
    public Builder shard(int rank, int worldSize) {
      this.rank = rank;
      this.worldSize = worldSize;
      return this;
    }

    /** score_sde's {@code data.random_flip}: mirror each image left–right with probability ½. */
    public Builder randomFlip(boolean randomFlip) {
      this.randomFlip = randomFlip;
      return this;
    }

    /** Where to begin, e.g. the cursor of a checkpoint; default {@link DataCursor#START}. */
    public Builder start(DataCursor start) {
      this.start = Objects.requireNonNull(start);
      return this;
    }

    public BatchStream build() {
      if (dataset == null) {
        throw new IllegalStateException("dataset must be set");
      }
      InvalidInputException.require(
          globalBatchSize >= 1, "batch size must be ≥ 1, got %d", globalBatchSize);
      InvalidInputException.require(
          globalBatchSize <= dataset.size(),
          "batch size %d is larger than the %d samples of %s",
          globalBatchSize,
          dataset.size(),
          dataset.description());
      InvalidInputException.require(worldSize >= 1, "world size must be ≥ 1, got %d", worldSize);
      InvalidInputException.require(
          rank >= 0 && rank < worldSize,
          "rank %d is outside 0..%d for a world of %d workers",
          rank,
          worldSize - 1,
          worldSize);
      InvalidInputException.require(
          globalBatchSize % worldSize == 0,
          "batch size %d is not divisible by the %d workers (each must get an equal shard)",
          globalBatchSize,
          worldSize);
      InvalidInputException.require(
          !randomFlip || dataset.shape() instanceof SampleShape.Image,
          "random flip needs images, but %s has samples of %s",
          dataset.description(),
          dataset.shape());
      return new BatchStream(this);
    }
  }
}
