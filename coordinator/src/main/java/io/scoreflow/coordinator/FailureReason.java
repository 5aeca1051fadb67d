package io.scoreflow.coordinator;

/** Why a job failed; each reason with what it means for the user. */
public enum FailureReason {
  NOT_ENOUGH_WORKERS("too few workers registered before the formation deadline"),
  NO_PROGRESS("the ring was re-formed again and again without completing a step"),
  WORKER_FAILED("a worker reported that its training failed"),
  REPLICAS_DIVERGED("the replicas' parameter checksums differ"),
  STALLED("no training step completed within the step deadline"),
  CHECKPOINTS_LOST(
      "the run's checkpoints vanished or fail verification: a new ring would train over its"
          + " history from step 0"),
  CANCELLED("the job was cancelled (sweep cancel)"),
  PROTOCOL("a worker reported something impossible for the job"),
  COORDINATOR_STOPPED("the coordinator itself stopped");

  private final String meaning;

  FailureReason(String meaning) {
    this.meaning = meaning;
  }

  public String meaning() {
    return meaning;
  }
}
