package io.scoreflow.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.scoreflow.math.InPlace;

/**
 * Adam over the flat parameter vector, written as torch.optim.Adam computes it (so that a run
 * matches score_sde's): {@code m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²; p ← p − (lr/(1−β1^k)) m /
 * (√v/√(1−β2^k) + ε)}.
 *
 * <p>The state lives on the long-lived manager given at construction and is exposed for
 * checkpoints; DJL's own Adam keeps its state private, which would make exact resume impossible.
 */
public final class Adam implements AutoCloseable {

  private final AdamOptions options;
  private final NDArray m;
  private final NDArray v;
  private long updates;

  public Adam(AdamOptions options, long size, DataType dtype, NDManager stateManager) {
    this.options = options;
    this.m = stateManager.zeros(new Shape(size), dtype);
    this.v = stateManager.zeros(new Shape(size), dtype);
  }

  public AdamOptions options() {
    return options;
  }

  /** Number of updates applied so far (the k of the bias corrections). */
  public long updates() {
    return updates;
  }

  /**
   * Advances the moments with gradient {@code g} and returns the step to subtract from the
   * parameters, owned by {@code scope}.
   *
   * @param step the training step, for the warm-up of the learning rate
   */
  public NDArray update(NDArray g, long step, NDManager scope) {
    updates++;
    double b1 = options.beta1();
    double b2 = options.beta2();
    NDArray g1 = g.mul(1 - b1);
    g1.attach(scope);
    m.muli(b1).addi(g1);
    NDArray g2 = g.square().muli(1 - b2);
    g2.attach(scope);
    v.muli(b2).addi(g2);
    double bias1 = 1 - Math.pow(b1, updates);
    double bias2 = 1 - Math.pow(b2, updates);
    double stepSize = options.learningRateAt(step) / bias1;
    NDArray denom = v.sqrt();
    denom.attach(scope);
    denom.divi(Math.sqrt(bias2)).addi(options.eps());
    NDArray delta = m.div(denom);
    delta.attach(scope);
    return delta.muli(stepSize);
  }

  /** The first moment (for checkpoints). */
  public NDArray firstMoment() {
    return m;
  }

  /** The second moment (for checkpoints). */
  public NDArray secondMoment() {
    return v;
  }

  /** Restores the state of a checkpoint. */
  public void restore(NDArray firstMoment, NDArray secondMoment, long updatesDone) {
    InPlace.assign(m, firstMoment);
    InPlace.assign(v, secondMoment);
    this.updates = updatesDone;
  }

  @Override
  public void close() {
    m.close();
    v.close();
  }
}
