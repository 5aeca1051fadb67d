package io.scoreflow.ckpt;

import java.util.List;
import java.util.Optional;

/**
 * What a search for the newest committed checkpoint that verifies completely found (see {@link
 * CheckpointReader#search}). The three outcomes are kept apart because callers must treat them
 * differently: a new run starts at step 0, a run with a verifying checkpoint continues from it, and
 * a run whose checkpoints all fail is refused rather than silently started again over its history.
 *
 * @param <T> what a verified checkpoint is handed back as: {@link CompletedCheckpoint} (tensors not
 *     kept) or {@link LoadedCheckpoint}
 */
public sealed interface CheckpointSearch<T extends VerifiedCheckpoint> {

  /** The committed checkpoints that failed verification, newest first, each with its reason. */
  List<Skipped> skipped();

  /** The verified checkpoint, if one was found. */
  default Optional<T> found() {
    return this instanceof Found<T> f ? Optional.of(f.checkpoint()) : Optional.empty();
  }

  /** A committed checkpoint that failed verification. */
  record Skipped(long step, InvalidCheckpointException failure) {
    /** "step 6 (manifest checksum mismatch: manifest.json fails its checksum …)". */
    public String describe() {
      return "step " + step + " (" + failure.reason().label() + ": " + failure.detail() + ")";
    }
  }

  /** No committed checkpoint at all. */
  record NoCheckpoint<T extends VerifiedCheckpoint>() implements CheckpointSearch<T> {
    @Override
    public List<Skipped> skipped() {
      return List.of();
    }
  }

  /** The newest checkpoint that verifies; {@code skipped} are the newer ones that did not. */
  record Found<T extends VerifiedCheckpoint>(T checkpoint, List<Skipped> skipped)
      implements CheckpointSearch<T> {
    public Found {
      skipped = List.copyOf(skipped);
    }
  }

  /** There are committed checkpoints and none of them verifies; {@code skipped} lists them all. */
  record NoneVerifies<T extends VerifiedCheckpoint>(List<Skipped> skipped)
      implements CheckpointSearch<T> {
    public NoneVerifies {
      skipped = List.copyOf(skipped);
      if (skipped.isEmpty()) {
        throw new IllegalArgumentException("none verifies, so at least one was skipped");
      }
    }

    /** The newest checkpoint's failure: the one a user most likely wants explained. */
    public Skipped newest() {
      return skipped.get(0);
    }
  }
}
