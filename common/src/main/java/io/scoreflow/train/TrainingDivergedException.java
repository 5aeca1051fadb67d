package io.scoreflow.train;

/**
 * The loss or the gradient stopped being finite: training cannot go on from this state. Not a bug
 * and not bad input (the config was valid, and the checkpoints before the step are kept), but a
 * result the user must act on: the CLI prints the message as one line and exits with 1, as for a
 * distributed job that failed.
 */
public final class TrainingDivergedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final long step;

  /**
   * @param step the step whose loss or gradient was not finite
   * @param detail what was not finite, e.g. "loss is NaN, gradient norm NaN"
   */
  public TrainingDivergedException(long step, String detail) {
    super(
        "training diverged at step "
            + step
            + ": "
            + detail
            + "; lower scoreflow.train.optim.lr (or raise optim.warmup) or check the data, and"
            + " train into a new --out");
    this.step = step;
  }

  /** The step whose loss or gradient was not finite. */
  public long step() {
    return step;
  }
}
