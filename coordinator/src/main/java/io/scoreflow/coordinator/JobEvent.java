package io.scoreflow.coordinator;

import io.scoreflow.proto.cluster.RingMember;
import java.util.List;

/** What a coordinator tells its local listener (the CLI's progress display, a test probe). */
public sealed interface JobEvent {

  String job();

  long generation();

  /**
   * A pool queued the job, whose run directory is {@code runDirectory}: where its journal goes. A
   * pool's event only; a job's own coordinator never sends it.
   */
  record JobQueued(String job, long generation, java.nio.file.Path runDirectory, int priority)
      implements JobEvent {}

  /** The ring is fixed and every member was told to start at {@code startStep}. */
  record RingFormed(
      String job, long generation, List<RingMember> ring, long startStep, long untilStep)
      implements JobEvent {
    public RingFormed {
      ring = List.copyOf(ring);
    }
  }

  /** The membership changed: the generation is now {@code generation}. */
  record GenerationChanged(String job, long generation, String why) implements JobEvent {}

  /**
   * Every rank completed {@code step} with the same parameters.
   *
   * @param meanLoss the loss averaged over ranks (each rank's mean over its shard)
   * @param samplesPerSecond global samples of the step over the slowest rank's step time
   * @param computeMs forward and backward, mean over ranks
   * @param exchangeMs gradient all-reduce, mean over ranks
   * @param optimizerMs clipping, Adam and EMA, mean over ranks
   * @param checksum the agreed parameter checksum (CRC-32C, hex)
   */
  record StepProgress(
      String job,
      long generation,
      long step,
      double meanLoss,
      double samplesPerSecond,
      double computeMs,
      double exchangeMs,
      double optimizerMs,
      String checksum)
      implements JobEvent {}

  /** Every rank reported the last step and its checkpoints are written. */
  record JobFinished(String job, long generation, long step) implements JobEvent {}

  /** The job failed; the workers were released. */
  record JobFailed(String job, long generation, FailureReason reason, String message)
      implements JobEvent {}
}
