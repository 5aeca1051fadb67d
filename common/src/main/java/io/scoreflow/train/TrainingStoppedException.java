package io.scoreflow.train;

/** Training stopped on request (an interrupted training thread), not because of a fault. */
public class TrainingStoppedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public TrainingStoppedException(String message) {
    super(message);
  }
}
