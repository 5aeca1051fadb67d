package io.scoreflow.coordinator;

import java.util.Optional;
import java.util.OptionalLong;

/**
 * The coordinator's memory of what its rings committed, across generations: which step the next
 * ring starts from, and whether regrouping still makes progress. The actor's checkpoint and regroup
 * behaviour, without the actor: no messages, no timers, so its rules are tested directly.
 *
 * <p>After Flink's checkpoint coordinator, a checkpoint counts once every participant acknowledged
 * it: the first ring starts from the newest valid checkpoint, a later one from the newest valid
 * checkpoint at or before the steps every rank agreed on (rank 0 may have written one for a step a
 * dying rank never reported).
 */
final class RestartPoint {

  /** What {@link #next()} decided for the next ring. */
  sealed interface Next {}

  /** Where a ring starts, and whether it starts past what every rank agreed on. */
  record Start(long step, boolean unagreed, long agreed) implements Next {}

  /**
   * No ring may start: this job's checkpoints vanished or none of them verifies any more, so a ring
   * would start at step 0 and train over the run's history (the first ring's start is checked by
   * the command that launches the coordinator, which can be told {@code --restart-from-scratch}; a
   * running job has no one to ask).
   */
  record HistoryLost(String why, long agreed) implements Next {}

  private final CheckpointCatalog catalog;
  private final int maxRegroups;

  /** The newest step every rank agreed on, over all generations (-1: none yet). */
  private long newestAgreedStep = -1;

  /**
   * How many steps are done for certain: the first ring's start, then every agreed step + 1 (-1: no
   * ring yet).
   */
  private long committedSteps = -1;

  private int regroupsWithoutProgress;

  /** Whether a ring of this job ever started from (or found) a checkpoint that verified. */
  private boolean sawCheckpoint;

  RestartPoint(CheckpointCatalog catalog, int maxRegroups) {
    this.catalog = catalog;
    this.maxRegroups = maxRegroups;
  }

  /**
   * Where the next ring starts: the newest valid checkpoint for the first ring; after a regroup the
   * newest one at or before the committed steps, or, if retention left none, the newest valid one
   * ({@link Start#unagreed()}: consistent too, but no rank vouched for its last steps). The steps
   * after it are trained again: only what the new ring agrees on counts from here. A later ring
   * that finds no valid checkpoint where the job had one, or only checkpoints that fail
   * verification, gets {@link HistoryLost} instead of step 0.
   */
  Next next() {
    long agreed = committedSteps;
    OptionalLong at =
        agreed < 0 ? catalog.newestValidStep() : catalog.newestValidStepAtMost(agreed);
    boolean unagreed = false;
    if (at.isEmpty() && agreed >= 0) {
      at = catalog.newestValidStep();
      unagreed = at.isPresent() && at.getAsLong() > agreed;
      if (at.isEmpty()) {
        Optional<String> corrupt = catalog.noneVerifies();
        if (corrupt.isPresent()) {
          return new HistoryLost(
              "the run's checkpoints fail verification: " + corrupt.get(), agreed);
        }
        if (sawCheckpoint) {
          return new HistoryLost(
              "the run's checkpoints are gone (an earlier ring of this job started from one)",
              agreed);
        }
      }
    }
    sawCheckpoint |= at.isPresent();
    long step = at.orElse(0);
    committedSteps = step;
    return new Start(step, unagreed, agreed);
  }

  /** Every rank of the ring agreed on {@code step}: progress, and one more step committed. */
  void agreed(long step) {
    if (step > newestAgreedStep) {
      newestAgreedStep = step;
      regroupsWithoutProgress = 0;
    }
    committedSteps = Math.max(committedSteps, step + 1);
  }

  /**
   * Counts a regroup; false once more than {@code maxRegroups} came in a row without a newly agreed
   * step (a fault every new ring hits again).
   */
  boolean mayRegroup() {
    return ++regroupsWithoutProgress <= maxRegroups;
  }

  /** Regroups in a row without progress before this one. */
  int regroupsWithoutProgress() {
    return regroupsWithoutProgress - 1;
  }
}
