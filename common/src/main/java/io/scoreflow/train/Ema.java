package io.scoreflow.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.scoreflow.math.InPlace;

/**
 * The exponential moving average of the parameters, as score_sde's {@code ExponentialMovingAverage}
 * with {@code use_num_updates}: the decay of update n is {@code min(rate, (1 + n) / (10 + n))}, so
 * early averages are not dominated by the initialisation.
 */
public final class Ema implements AutoCloseable {

  private final double rate;
  private final NDArray shadow;
  private long updates;

  /** Starts the average at {@code initial} (copied into {@code stateManager}). */
  public Ema(double rate, NDArray initial, NDManager stateManager) {
    if (!(rate >= 0 && rate < 1)) {
      throw new io.scoreflow.InvalidInputException("ema-rate must be in [0, 1), got " + rate);
    }
    this.rate = rate;
    this.shadow = initial.duplicate();
    this.shadow.attach(stateManager);
  }

  /** {@code shadow ← shadow − (1 − decay)(shadow − params)}. */
  public void update(NDArray params, NDManager scope) {
    updates++;
    double decay = Math.min(rate, (1.0 + updates) / (10.0 + updates));
    NDArray diff = shadow.sub(params);
    diff.attach(scope);
    shadow.subi(diff.muli(1 - decay));
  }

  public NDArray shadow() {
    return shadow;
  }

  public long updates() {
    return updates;
  }

  public double rate() {
    return rate;
  }

  public void restore(NDArray values, long updatesDone) {
    InPlace.assign(shadow, values);
    this.updates = updatesDone;
  }

  @Override
  public void close() {
    shadow.close();
  }
}
