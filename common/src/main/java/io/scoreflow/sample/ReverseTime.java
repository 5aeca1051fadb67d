package io.scoreflow.sample;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.scoreflow.sde.ForwardSde;
import java.util.function.IntConsumer;

/**
 * The loop every reverse-time sampler shares: draw from the exact-variance prior {@code N(0, a2(T)
 * I)}, then for k = 0..K−1 at {@code s = T − kη} replace y by one step of the scheme. Each step
 * runs in its own sub-manager, so everything but the new state is freed when it ends.
 */
final class ReverseTime {

  /** One step of a scheme: the next state, in {@code scope}, from {@code y} at time {@code s}. */
  @FunctionalInterface
  interface Step {
    NDArray next(NDArray y, double s, double eta, int k, NDManager scope);
  }

  private ReverseTime() {}

  static NDArray run(
      ForwardSde sde,
      int steps,
      Shape shape,
      DataType dtype,
      NDManager manager,
      IntConsumer progress,
      Step step) {
    double horizon = sde.horizon();
    double eta = horizon / steps;
    NDArray y = manager.randomNormal(0f, (float) Math.sqrt(sde.priorVariance()), shape, dtype);
    for (int k = 0; k < steps; k++) {
      double s = horizon - k * eta;
      NDArray next;
      try (NDManager scope = manager.newSubManager()) {
        y.tempAttach(scope);
        next = step.next(y, s, eta, k, scope);
        next.attach(manager);
      }
      y.close();
      y = next;
      progress.accept(k + 1);
    }
    return y;
  }
}
