package io.scoreflow.coordinator;

import io.scoreflow.ckpt.CompletedCheckpoint;
import io.scoreflow.train.RunDirectory;
import java.util.OptionalLong;

/**
 * Where a generation starts: the step of the newest checkpoint that passes its checksums. Asked
 * each time a ring forms, so a later generation continues from what the earlier one committed.
 */
@FunctionalInterface
public interface CheckpointCatalog {

  OptionalLong newestValidStep();

  /** The checkpoints of a run directory, read without the writer's lock. */
  static CheckpointCatalog of(RunDirectory dir) {
    return () ->
        dir.newestValid()
            .map(CompletedCheckpoint::step)
            .map(OptionalLong::of)
            .orElseGet(OptionalLong::empty);
  }

  /** No checkpoints: every generation starts at step 0. */
  CheckpointCatalog EMPTY = OptionalLong::empty;
}
