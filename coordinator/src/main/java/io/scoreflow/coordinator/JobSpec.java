package io.scoreflow.coordinator;

import static io.scoreflow.InvalidInputException.require;

import com.typesafe.config.Config;
import io.scoreflow.train.RunDirectory;
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
    Duration stepTimeout) {

  public JobSpec {
    Objects.requireNonNull(job, "job");
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(runDirectory, "runDirectory");
    require(workers >= 1, "--workers must be >= 1, got %s", workers);
    require(
        minWorkers >= 1 && minWorkers <= workers,
        "min-workers must be in 1..%s (the number of workers), got %s",
        workers,
        minWorkers);
    require(
        globalBatchSize % workers == 0,
        "scoreflow.train.batch-size %s is not divisible by %s workers (each needs an equal shard)",
        globalBatchSize,
        workers);
    require(untilStep >= 0, "--steps must be >= 0, got %s", untilStep);
  }

  /**
   * The spec of {@code resolved} (a config loaded with every default) for {@code workers} workers;
   * {@code minWorkers} 0 takes {@code scoreflow.cluster.min-workers} (whose 0 means all of them).
   */
  public static JobSpec of(
      Config resolved, Path runDirectory, long untilStep, int workers, int minWorkers) {
    Config cluster = resolved.getConfig("scoreflow.cluster");
    int min = minWorkers > 0 ? minWorkers : cluster.getInt("min-workers");
    return new JobSpec(
        resolved.getString("scoreflow.job.name"),
        RunDirectory.render(resolved),
        runDirectory.toAbsolutePath().normalize(),
        untilStep,
        workers,
        min > 0 ? min : workers,
        resolved.getInt("scoreflow.train.batch-size"),
        cluster.getDuration("form-timeout"),
        cluster.getDuration("step-timeout"));
  }
}
