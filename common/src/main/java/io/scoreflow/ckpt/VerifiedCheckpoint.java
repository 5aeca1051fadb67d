package io.scoreflow.ckpt;

import java.nio.file.Path;

/**
 * A checkpoint that passed verification: its directory and manifest, with ({@link
 * LoadedCheckpoint}) or without ({@link CompletedCheckpoint}) its tensors in memory.
 */
public sealed interface VerifiedCheckpoint permits CompletedCheckpoint, LoadedCheckpoint {
  Path directory();

  CheckpointManifest manifest();

  default long step() {
    return manifest().step();
  }
}
