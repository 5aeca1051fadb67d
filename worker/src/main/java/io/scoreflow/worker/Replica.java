package io.scoreflow.worker;

import io.scoreflow.proto.cluster.CoordinatorProtocol;
import io.scoreflow.proto.cluster.WorkerProtocol;

/** One replica's training, running on its own thread (never on an actor's). */
public interface Replica {

  /** What a replica tells its worker node, from the training thread. */
  interface Events {
    /** A step is done (with the parameter checksum of the replica after it). */
    void onStep(CoordinatorProtocol.StepReport report);

    /**
     * The training thread ended: at {@code step} steps done, with {@code failure} null on success,
     * else what went wrong, in one line; {@code inExchange} when it was the gradient exchange that
     * failed (a peer gone or stalled), which a new ring can get past.
     */
    void onEnd(long step, String failure, boolean inExchange);
  }

  /** Starts replicas; the real one trains with DJL, a test's may only pretend to. */
  @FunctionalInterface
  interface Launcher {
    Replica start(WorkerProtocol.StartJob job, Events events);
  }

  /**
   * Asks the training to stop: interrupts the thread and closes the exchange, so a step blocked in
   * the all-reduce fails at once. Returns immediately; {@link Events#onEnd} follows.
   */
  void stop();

  /**
   * Waits up to {@code timeout} for the training thread to end (after {@link #stop()}); true if it
   * did. A replica whose work needs no thread of its own has nothing to wait for.
   */
  default boolean awaitEnd(java.time.Duration timeout) throws InterruptedException {
    return true;
  }
}
