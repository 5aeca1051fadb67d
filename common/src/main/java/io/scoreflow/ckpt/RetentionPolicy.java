package io.scoreflow.ckpt;

import java.util.List;

/**
 * Which committed checkpoints to delete after a new one is committed. The store applies it only
 * once {@code LATEST} points to the new checkpoint, and never deletes the one {@code LATEST} names
 * whatever a policy answers, so a policy cannot lose the newest state.
 */
@FunctionalInterface
public interface RetentionPolicy {

  /**
   * @param committedSteps the steps of committed checkpoints, ascending; the last is the newest
   * @return the steps to delete
   */
  List<Long> toDelete(List<Long> committedSteps);

  /** Keeps the newest {@code count} checkpoints. */
  static RetentionPolicy keepLast(int count) {
    return new KeepLast(count);
  }

  /** The default: the newest three, so two damaged checkpoints in a row still leave one. */
  static RetentionPolicy defaultPolicy() {
    return keepLast(3);
  }

  /** Keeps the newest {@code count} checkpoints and deletes the rest. */
  record KeepLast(int count) implements RetentionPolicy {
    public KeepLast {
      if (count < 1) {
        throw new IllegalArgumentException("keep-last count must be >= 1, got " + count);
      }
    }

    @Override
    public List<Long> toDelete(List<Long> committedSteps) {
      int excess = committedSteps.size() - count;
      return excess <= 0 ? List.of() : List.copyOf(committedSteps.subList(0, excess));
    }
  }
}
