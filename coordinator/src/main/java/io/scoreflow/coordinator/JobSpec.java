package io.scoreflow.coordinator;

import static io.scoreflow.InvalidInputException.require;

import com.typesafe.config.Config;
import io.scoreflow.proto.cluster.WorkerProtocol;
import io.scoreflow.run.ElasticBatch;
import io.scoreflow.run.RunDirectory;
import io.scoreflow.run.TrainSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * The job a coordinator runs.
 *
 * @param job the job name ({@code scoreflow.job.name})
 * @param config the resolved config as HOCON (what every worker trains with)
 * @param runDirectory where checkpoints and event logs go, shared by every worker
 * @param untilStep train until this many steps are done
 * @param workers the ring size to wait for
 * @param minWorkers the smallest ring to form once {@code formTimeout} has passed
 * @param globalBatchSize the batch of one step over all workers; a ring size must divide it
 * @param formTimeout how long to wait for registrations
 * @param stepTimeout the longest time without a completed step (includes the first step's set-up)
 * @param checkpointEvery rank 0 checkpoints after every this many steps: the step boundaries at
 *     which a replacement worker joins without losing work
 * @param regroupTimeout after a ring dissolved, how long to wait for the survivors to stop and for
 *     replacements to register before forming a ring of whoever is there (at least {@code
 *     minWorkers})
 * @param maxRegroups how many regroups in a row may pass without a newly completed step before the
 *     job fails (a fault that every new ring hits again)
 * @param firstGeneration the generation of the first ring: 1 for a new run; after the generations
 *     an earlier coordinator of the run used, so that workers which served it (and fence their
 *     exchange by generation) never see a generation twice
 * @param elasticBatch what a ring of another size than {@code workers} trains ({@link
 *     #globalBatchFor}); sent to each ring as {@link
 *     io.scoreflow.proto.cluster.WorkerProtocol.StartJob#globalBatch()}
 */
public record JobSpec(
    String job,
    String config,
    Path runDirectory,
    long untilStep,
    int workers,
    int minWorkers,
    int globalBatchSize,
    Duration formTimeout,
    Duration stepTimeout,
    int checkpointEvery,
    Duration regroupTimeout,
    int maxRegroups,
    long firstGeneration,
    ElasticBatch elasticBatch) {

  /** The global batch of a ring of {@code ringSize}, by the run's {@link ElasticBatch} rule. */
  public int globalBatchFor(int ringSize) {
    return elasticBatch.globalBatch(globalBatchSize, workers, ringSize);
  }

  public JobSpec {
    Objects.requireNonNull(job, "job");
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(runDirectory, "runDirectory");
    // Every worker gets the config in its StartJob message, whose size Pekko's frame bounds.
    require(
        config.length() <= WorkerProtocol.StartJob.MAX_CONFIG_CHARS,
        "the job's resolved config is %s characters; at most %s can be sent to the workers",
        config.length(),
        WorkerProtocol.StartJob.MAX_CONFIG_CHARS);
    require(workers >= 1, "--workers must be >= 1, got %s", workers);
    require(
        minWorkers >= 1 && minWorkers <= workers,
        "min-workers must be in 1..%s (the number of workers), got %s",
        workers,
        minWorkers);
    TrainSettings.shard(globalBatchSize, workers);
    require(untilStep >= 0, "--steps must be >= 0, got %s", untilStep);
    require(
        checkpointEvery >= 1,
        "scoreflow.train.checkpoint-every must be >= 1, got %s",
        checkpointEvery);
    Objects.requireNonNull(elasticBatch, "elasticBatch");
    require(firstGeneration >= 1, "the first generation must be >= 1, got %s", firstGeneration);
    require(maxRegroups >= 0, "scoreflow.cluster.max-regroups must be >= 0, got %s", maxRegroups);
  }

  /**
   * The spec of {@code resolved} (a config loaded with every default) for {@code workers} workers;
   * {@code minWorkers} 0 takes {@code scoreflow.cluster.min-workers} (whose 0 means all of them).
   */
  public static JobSpec of(
      Config resolved, Path runDirectory, long untilStep, int workers, int minWorkers) {
    Config cluster = resolved.getConfig("scoreflow.cluster");
    TrainSettings train = TrainSettings.of(resolved);
    ElasticBatch elastic = ElasticBatch.of(resolved);
    int min = minWorkers > 0 ? minWorkers : cluster.getInt("min-workers");
    return new JobSpec(
        resolved.getString("scoreflow.job.name"),
        RunDirectory.render(resolved),
        runDirectory.toAbsolutePath().normalize(),
        untilStep,
        workers,
        min > 0 ? min : workers,
        train.batchSize(),
        cluster.getDuration("form-timeout"),
        cluster.getDuration("step-timeout"),
        train.checkpointEvery(),
        cluster.getDuration("regroup-timeout"),
        cluster.getInt("max-regroups"),
        1,
        elastic);
  }

  /** This spec, its first ring at {@code generation} (a restarted coordinator continues). */
  public JobSpec startingAtGeneration(long generation) {
    return new JobSpec(
        job,
        config,
        runDirectory,
        untilStep,
        workers,
        minWorkers,
        globalBatchSize,
        formTimeout,
        stepTimeout,
        checkpointEvery,
        regroupTimeout,
        maxRegroups,
        generation,
        elasticBatch);
  }
}
