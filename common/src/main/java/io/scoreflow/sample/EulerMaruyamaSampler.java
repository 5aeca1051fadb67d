package io.scoreflow.sample;

import static io.scoreflow.InvalidInputException.require;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.scoreflow.sde.ForwardSde;
import java.util.function.IntConsumer;

/**
 * The Euler–Maruyama reverse sampler of Gao, Nguyen and Zhu: from the exact-variance prior {@code
 * N(0, a2(T) I)}, with η = T/K and for k = 0..K−1 at {@code s = T − kη}: {@code y ← y + η (f(s) y +
 * g(s)² score(y, s)) + √η g(s) ξ}.
 *
 * <p>Randomness comes from the engine's generator on the device that holds the samples, so no noise
 * crosses from host to device; seed it through {@code Engine.setRandomSeed} for repeatable runs.
 */
public final class EulerMaruyamaSampler implements Sampler {

  private final ForwardSde sde;
  private final int steps;

  public EulerMaruyamaSampler(ForwardSde sde, int steps) {
    require(steps >= 1, "--steps must be >= 1, got %s", steps);
    this.sde = sde;
    this.steps = steps;
  }

  @Override
  public int steps() {
    return steps;
  }

  @Override
  public NDArray sample(
      ScoreFunction score, Shape shape, DataType dtype, NDManager manager, IntConsumer progress) {
    double horizon = sde.horizon();
    double eta = horizon / steps;
    NDArray y = manager.randomNormal(0f, (float) Math.sqrt(sde.priorVariance()), shape, dtype);
    for (int k = 0; k < steps; k++) {
      double s = horizon - k * eta;
      double f = sde.f(s);
      double g = sde.g(s);
      NDArray next;
      // One scope a step: every intermediate of the step (score, noise, sums) is freed at its end.
      try (NDManager scope = manager.newSubManager()) {
        y.tempAttach(scope);
        NDArray drift = score.score(y, s).muli(eta * g * g);
        NDArray noise = scope.randomNormal(0f, (float) (Math.sqrt(eta) * g), shape, dtype);
        next = y.mul(1 + eta * f).addi(drift).addi(noise);
        next.attach(manager);
      }
      y.close();
      y = next;
      progress.accept(k + 1);
    }
    return y;
  }
}
