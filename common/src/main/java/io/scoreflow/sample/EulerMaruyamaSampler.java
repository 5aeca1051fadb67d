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
    return ReverseTime.run(
        sde,
        steps,
        shape,
        dtype,
        manager,
        progress,
        (y, s, eta, k, scope) -> {
          double f = sde.f(s);
          double g = sde.g(s);
          NDArray drift = score.score(y, s).muli(eta * g * g);
          NDArray noise = scope.randomNormal(0f, (float) (Math.sqrt(eta) * g), shape, dtype);
          return y.mul(1 + eta * f).addi(drift).addi(noise);
        });
  }
}
