package io.scoreflow.run;

import com.typesafe.config.Config;
import io.scoreflow.InvalidInputException;
import io.scoreflow.config.ConfigValues;

/**
 * The {@code scoreflow.train} tree, read once and checked, so that every command meets a bad value
 * as one error naming its key (instead of a type error deep inside a worker) and no class reads
 * these keys by name again. The optimiser's block ({@code scoreflow.train.optim}) stays with the
 * optimiser ({@code io.scoreflow.train.AdamOptions}), which checks its own ranges.
 *
 * @param seed of the network's initialisation, the data order and the noise
 * @param steps how many steps a run trains unless {@code --steps} says otherwise
 * @param batchSize the global batch of one step, over all workers of a distributed run
 * @param eps training times are drawn from {@code U(eps, T)}
 * @param emaRate the decay of the exponential moving average of the weights
 * @param logEvery steps between {@code step} lines of the event log
 * @param checkpointEvery steps between checkpoints
 * @param keepCheckpoints how many of the newest checkpoints are kept
 */
public record TrainSettings(
    long seed,
    long steps,
    int batchSize,
    double eps,
    double emaRate,
    int logEvery,
    int checkpointEvery,
    int keepCheckpoints) {

  /** The tree these settings come from. */
  public static final String PATH = "scoreflow.train";

  /** The key of {@link #batchSize()}: the one a coordinator's ring may train differently. */
  public static final String BATCH_SIZE = PATH + ".batch-size";

  public TrainSettings {
    positive("batch-size", batchSize);
    positive("log-every", logEvery);
    positive("checkpoint-every", checkpointEvery);
    positive("keep-checkpoints", keepCheckpoints);
    InvalidInputException.require(
        steps >= 0, "%s.steps = %s: expected a whole number >= 0", PATH, steps);
    InvalidInputException.require(eps > 0, "%s.eps = %s: expected a number > 0", PATH, eps);
    InvalidInputException.require(
        emaRate >= 0 && emaRate < 1,
        "%s.ema-rate = %s: expected a number in [0, 1)",
        PATH,
        emaRate);
  }

  /**
   * The settings of {@code root}, a config resolved with every default.
   *
   * @throws InvalidInputException naming the first key that is missing or not what it must be
   */
  public static TrainSettings of(Config root) {
    return new TrainSettings(
        ConfigValues.whole(root, PATH + ".seed"),
        ConfigValues.whole(root, PATH + ".steps", 0, Long.MAX_VALUE, "a whole number >= 0"),
        positiveInt(root, "batch-size"),
        ConfigValues.number(root, PATH + ".eps"),
        ConfigValues.number(root, PATH + ".ema-rate"),
        positiveInt(root, "log-every"),
        positiveInt(root, "checkpoint-every"),
        positiveInt(root, "keep-checkpoints"));
  }

  /**
   * The shard of each of {@code workers} ranks ({@code batch-size / workers}).
   *
   * @throws InvalidInputException when the batch does not split evenly
   */
  public int shard(int workers) {
    return shard(batchSize, workers);
  }

  /**
   * The shard of each of {@code workers} ranks of a global batch of {@code globalBatch}: the one
   * check of an even split, for the CLI before anything starts and for a coordinator's job.
   *
   * @throws InvalidInputException when the batch does not split evenly
   */
  public static int shard(int globalBatch, int workers) {
    InvalidInputException.require(workers >= 1, "--workers must be >= 1, got %s", workers);
    InvalidInputException.require(
        globalBatch % workers == 0,
        "%s %s is not divisible by %s workers (each needs an equal shard)",
        BATCH_SIZE,
        globalBatch,
        workers);
    return globalBatch / workers;
  }

  /** These settings with a global batch of {@code globalBatch} (a ring's, see ElasticBatch). */
  public TrainSettings withBatchSize(int globalBatch) {
    return new TrainSettings(
        seed, steps, globalBatch, eps, emaRate, logEvery, checkpointEvery, keepCheckpoints);
  }

  private static int positiveInt(Config root, String key) {
    return (int)
        ConfigValues.whole(
            root, PATH + "." + key, 1, Integer.MAX_VALUE, "a whole number from 1 to 2147483647");
  }

  private static void positive(String key, int value) {
    InvalidInputException.require(
        value >= 1, "%s.%s = %s: expected a whole number >= 1", PATH, key, value);
  }
}
