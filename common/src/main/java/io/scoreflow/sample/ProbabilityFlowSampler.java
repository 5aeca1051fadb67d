package io.scoreflow.sample;

import static io.scoreflow.InvalidInputException.require;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.scoreflow.sde.ForwardSde;
import java.util.function.IntConsumer;

/**
 * The probability-flow ODE {@code dx/dt = −f x − ½ g² ∇log p_t(x)}, integrated from the
 * exact-variance prior at T to 0 with K explicit Euler steps: {@code y ← y + η (f y + ½ g² s)}.
 * Deterministic once the prior draw is fixed.
 */
public final class ProbabilityFlowSampler implements Sampler {

  private final ForwardSde sde;
  private final int steps;

  public ProbabilityFlowSampler(ForwardSde sde, int steps) {
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
          double g = sde.g(s);
          return y.mul(1 + eta * sde.f(s)).addi(score.score(y, s).muli(0.5 * eta * g * g));
        });
  }
}
