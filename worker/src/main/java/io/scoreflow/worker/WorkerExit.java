package io.scoreflow.worker;

/** How a worker node ended: the process exit code and why. */
public record WorkerExit(int code, String reason) {

  public static final int OK = 0;
  public static final int FAILED = 1;

  /**
   * Not a process exit code: the coordinator vanished (or this node was cut off from it). The
   * process rejoins for {@code scoreflow.cluster.reconnect-timeout}, then exits {@link #FAILED}.
   */
  public static final int COORDINATOR_LOST = -2;

  public static WorkerExit ok(String reason) {
    return new WorkerExit(OK, reason);
  }

  public static WorkerExit failed(String reason) {
    return new WorkerExit(FAILED, reason);
  }

  public static WorkerExit coordinatorLost(String reason) {
    return new WorkerExit(COORDINATOR_LOST, reason);
  }

  /** The same exit with {@code note} appended to the reason. */
  public WorkerExit withNote(String note) {
    return new WorkerExit(code, reason + "; " + note);
  }
}
