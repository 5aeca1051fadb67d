package io.scoreflow.train;

/** The loss or the gradient stopped being finite: training cannot go on from this state. */
public final class TrainingDivergedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public TrainingDivergedException(String message) {
    super(message);
  }
}
