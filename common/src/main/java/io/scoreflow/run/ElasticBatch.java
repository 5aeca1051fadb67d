package io.scoreflow.run;

import com.typesafe.config.Config;
import io.scoreflow.InvalidInputException;

/**
 * What a ring of another size than {@code --workers N} trains ({@code
 * scoreflow.cluster.elastic-batch}), after workers were lost and not replaced. The rule lives here,
 * once, because the coordinator (which batch a new ring trains), the workers (whether a checkpoint
 * of another batch may be continued) and the CLI must agree on it.
 */
public enum ElasticBatch {
  /**
   * The same global batch, split over the ring: the run stays the one-process run with that batch
   * (the coordinator cuts the ring to the largest size that divides it).
   */
  KEEP,
  /**
   * Every rank keeps its shard ({@code batch-size / workers}), so the global batch follows the ring
   * size: throughput is kept, the optimisation changes (the learning rate is not touched), and
   * checkpoints record the batch their ring trained.
   */
  SCALE;

  /** The config key. */
  public static final String KEY = "scoreflow.cluster.elastic-batch";

  /**
   * The rule of {@code root}. Absent (a config without the coordinator's defaults, as a checkpoint
   * of an older single-process run may hold) is {@link #KEEP}, the default.
   *
   * @throws InvalidInputException naming the key when it is neither keep nor scale
   */
  public static ElasticBatch of(Config root) {
    if (!root.hasPath(KEY)) {
      return KEEP;
    }
    String value = root.getValue(KEY).unwrapped().toString();
    return switch (value) {
      case "keep" -> KEEP;
      case "scale" -> SCALE;
      default ->
          throw new InvalidInputException(
              KEY
                  + " must be keep (the global batch split over the ring) or scale (each rank keeps"
                  + " its shard), got '"
                  + value
                  + "'");
    };
  }

  /**
   * The global batch a ring of {@code ringSize} trains, for a run asked to train {@code batchSize}
   * over {@code workers}: {@code batchSize} itself under {@link #KEEP}, {@code batchSize / workers
   * · ringSize} under {@link #SCALE}.
   */
  public int globalBatch(int batchSize, int workers, int ringSize) {
    if (workers < 1 || ringSize < 1) {
      throw new IllegalArgumentException(
          "workers and ring size must be >= 1, got " + workers + " and " + ringSize);
    }
    return this == SCALE ? batchSize / workers * ringSize : batchSize;
  }

  /** Whether the global batch follows the ring, so a checkpoint may hold another batch size. */
  public boolean batchFollowsRing() {
    return this == SCALE;
  }
}
