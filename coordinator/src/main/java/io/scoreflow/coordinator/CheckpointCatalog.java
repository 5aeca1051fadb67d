package io.scoreflow.coordinator;

import io.scoreflow.ckpt.CheckpointSearch;
import io.scoreflow.ckpt.CompletedCheckpoint;
import io.scoreflow.run.RunDirectory;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Where a generation starts: the step of the newest checkpoint that passes its checksums. Asked
 * each time a ring forms, so a later generation continues from what the earlier one committed.
 */
@FunctionalInterface
public interface CheckpointCatalog {

  OptionalLong newestValidStep();

  /**
   * The newest valid checkpoint of a step no later than {@code bound}: the newest one the
   * coordinator saw every rank agree on. Rank 0 may have written a newer one for a step that a rank
   * lost before reporting; that one is consistent too, but no record of the run vouches for it.
   */
  default OptionalLong newestValidStepAtMost(long bound) {
    OptionalLong newest = newestValidStep();
    return newest.isPresent() && newest.getAsLong() <= bound ? newest : OptionalLong.empty();
  }

  /**
   * When the run holds committed checkpoints and none of them verifies: what is wrong with them
   * (the newest one's failure), for the refusal to start over them. Asked only when {@link
   * #newestValidStep()} is empty.
   */
  default Optional<String> noneVerifies() {
    return Optional.empty();
  }

  /** The checkpoints of a run directory, read without the writer's lock. */
  static CheckpointCatalog of(RunDirectory dir) {
    return new CheckpointCatalog() {
      @Override
      public OptionalLong newestValidStep() {
        return newestValidStepAtMost(Long.MAX_VALUE);
      }

      @Override
      public OptionalLong newestValidStepAtMost(long bound) {
        return dir.newestValidAtMost(bound)
            .map(CompletedCheckpoint::step)
            .map(OptionalLong::of)
            .orElseGet(OptionalLong::empty);
      }

      @Override
      public Optional<String> noneVerifies() {
        return dir.reader().searchAtMost(Long.MAX_VALUE)
                instanceof CheckpointSearch.NoneVerifies<?> f
            ? Optional.of(RunDirectory.failures(f))
            : Optional.empty();
      }
    };
  }

  /** No checkpoints: every generation starts at step 0. */
  CheckpointCatalog EMPTY = OptionalLong::empty;
}
