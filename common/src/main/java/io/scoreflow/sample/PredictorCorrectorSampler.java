package io.scoreflow.sample;

import static io.scoreflow.InvalidInputException.require;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.scoreflow.sde.ForwardSde;
import java.util.function.IntConsumer;

/**
 * score_sde's predictor–corrector sampler for a general SDE: at each time, {@code correctorSteps}
 * Langevin steps {@code x ← x + ε s + √(2ε) ξ} with {@code ε = 2 (snr ‖ξ‖ / ‖s‖)²} (per sample),
 * then one Euler–Maruyama predictor step. As in score_sde, the last predictor step returns its mean
 * (no noise added at t ≈ 0).
 */
public final class PredictorCorrectorSampler implements Sampler {

  private final ForwardSde sde;
  private final int steps;
  private final double snr;
  private final int correctorSteps;

  public PredictorCorrectorSampler(ForwardSde sde, int steps, double snr, int correctorSteps) {
    require(steps >= 1, "--steps must be >= 1, got %s", steps);
    require(snr > 0, "snr must be > 0, got %s", snr);
    require(correctorSteps >= 0, "corrector-steps must be >= 0, got %s", correctorSteps);
    this.sde = sde;
    this.steps = steps;
    this.snr = snr;
    this.correctorSteps = correctorSteps;
  }

  @Override
  public int steps() {
    return steps;
  }

  @Override
  public NDArray sample(
      ScoreFunction score, Shape shape, DataType dtype, NDManager manager, IntConsumer progress) {
    int[] perSample = reductionAxes(shape);
    return ReverseTime.run(
        sde,
        steps,
        shape,
        dtype,
        manager,
        progress,
        (y, s, eta, k, scope) -> {
          NDArray x = y;
          for (int c = 0; c < correctorSteps; c++) {
            NDArray grad = score.score(x, s);
            NDArray noise = scope.randomNormal(0f, 1f, shape, dtype);
            double gradNorm = scalar(grad.square().sum(perSample, true).sqrt().mean());
            double noiseNorm = scalar(noise.square().sum(perSample, true).sqrt().mean());
            double ratio = snr * noiseNorm / Math.max(gradNorm, 1e-30);
            double epsilon = 2 * ratio * ratio;
            x = x.add(grad.mul(epsilon)).addi(noise.muli(Math.sqrt(2 * epsilon)));
          }
          double g = sde.g(s);
          NDArray mean = x.mul(1 + eta * sde.f(s)).addi(score.score(x, s).muli(eta * g * g));
          if (k == steps - 1) {
            return mean;
          }
          return mean.addi(scope.randomNormal(0f, (float) (Math.sqrt(eta) * g), shape, dtype));
        });
  }

  /** A scalar of any floating type as a double (getDouble insists on float64). */
  private static double scalar(NDArray a) {
    return a.toType(DataType.FLOAT64, false).getDouble();
  }

  /** Every axis but the batch axis. */
  private static int[] reductionAxes(Shape shape) {
    int[] axes = new int[shape.dimension() - 1];
    for (int i = 1; i < shape.dimension(); i++) {
      axes[i - 1] = i;
    }
    return axes;
  }
}
