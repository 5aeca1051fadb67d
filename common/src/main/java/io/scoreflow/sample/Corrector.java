package io.scoreflow.sample;

import static io.scoreflow.InvalidInputException.require;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.scoreflow.InvalidInputException;
import io.scoreflow.sde.ForwardSde;
import io.scoreflow.sde.Schedule;

/**
 * The corrector of a predictor–corrector sampler (score_sde's {@code sampling.py}): {@code steps}
 * Langevin steps {@code x ← x + ε score(x, s) + √(2ε) ξ} at a fixed time s, before the predictor
 * moves on. The correctors differ only in the step size ε.
 */
public sealed interface Corrector permits Corrector.None, Corrector.Langevin, Corrector.Ald {

  /** The name the CLI and config use. */
  String name();

  /** The state after correcting {@code x} at time s (new arrays in {@code scope}). */
  NDArray correct(
      ScoreFunction score, NDArray x, ForwardSde sde, double s, double eta, NDManager scope);

  /** Whether it changes the state at all (a conditioned sampler re-imposes the data after it). */
  default boolean corrects() {
    return true;
  }

  /** No correction. */
  record None() implements Corrector {
    @Override
    public String name() {
      return "none";
    }

    @Override
    public boolean corrects() {
      return false;
    }

    @Override
    public NDArray correct(
        ScoreFunction score, NDArray x, ForwardSde sde, double s, double eta, NDManager scope) {
      return x;
    }
  }

  /**
   * score_sde's Langevin corrector: {@code ε = 2 α (snr ‖ξ‖ / ‖score‖)²}, the norms per sample and
   * averaged over the batch, with α the VP chain's {@code 1 − β} at s (1 for other SDEs). The step
   * depends on the batch, so its law on Gaussian data has no closed recursion.
   */
  record Langevin(double snr, int steps) implements Corrector {
    public Langevin {
      checkOptions(snr, steps);
    }

    @Override
    public String name() {
      return "langevin";
    }

    @Override
    public boolean corrects() {
      return steps > 0;
    }

    @Override
    public NDArray correct(
        ScoreFunction score, NDArray x, ForwardSde sde, double s, double eta, NDManager scope) {
      int[] perSample = reductionAxes(x.getShape());
      double alpha = alpha(sde, s, eta);
      return iterate(
          score,
          x,
          s,
          steps,
          scope,
          (grad, noise) -> {
            double gradNorm = scalar(grad.square().sum(perSample, true).sqrt().mean());
            double noiseNorm = scalar(noise.square().sum(perSample, true).sqrt().mean());
            double ratio = snr * noiseNorm / Math.max(gradNorm, 1e-30);
            return 2 * alpha * ratio * ratio;
          });
    }
  }

  /**
   * Annealed Langevin dynamics (NCSN): {@code ε = 2 α (snr σ_s)²} with σ_s = √a2(s) the forward
   * transition's standard deviation at s and α as for {@link Langevin}. The step is deterministic,
   * so on Gaussian data the corrector is affine and its law has an exact recursion.
   */
  record Ald(double snr, int steps) implements Corrector {
    public Ald {
      checkOptions(snr, steps);
    }

    @Override
    public String name() {
      return "ald";
    }

    @Override
    public boolean corrects() {
      return steps > 0;
    }

    /** The step size ε at time s. */
    public double stepSize(ForwardSde sde, double s, double eta) {
      double sigma = snr * Math.sqrt(sde.variance(s));
      return 2 * alpha(sde, s, eta) * sigma * sigma;
    }

    @Override
    public NDArray correct(
        ScoreFunction score, NDArray x, ForwardSde sde, double s, double eta, NDManager scope) {
      double epsilon = stepSize(sde, s, eta);
      return iterate(score, x, s, steps, scope, (grad, noise) -> epsilon);
    }
  }

  /** The step size of one Langevin step from the score and the noise drawn for it. */
  @FunctionalInterface
  interface StepSize {
    double of(NDArray grad, NDArray noise);
  }

  /**
   * {@code steps} Langevin steps {@code x ← x + ε grad + √(2ε) ξ}, each in its own sub-manager of
   * {@code scope}, so that a long corrector keeps only its current state alive.
   */
  private static NDArray iterate(
      ScoreFunction score, NDArray input, double s, int steps, NDManager scope, StepSize size) {
    NDArray x = input;
    for (int c = 0; c < steps; c++) {
      NDArray next;
      try (NDManager inner = scope.newSubManager()) {
        x.tempAttach(inner);
        NDArray grad = score.score(x, s);
        NDArray noise = inner.randomNormal(0f, 1f, x.getShape(), x.getDataType());
        double epsilon = size.of(grad, noise);
        next = x.add(grad.muli(epsilon)).addi(noise.muli(Math.sqrt(2 * epsilon)));
        next.attach(scope);
      }
      if (x != input) {
        x.close();
      }
      x = next;
    }
    return x;
  }

  /** The corrector named {@code name} with score_sde's options. */
  static Corrector of(String name, double snr, int steps) {
    return switch (name) {
      case "none" -> new None();
      case "langevin" -> new Langevin(snr, steps);
      case "ald" -> new Ald(snr, steps);
      default ->
          throw new InvalidInputException(
              "corrector '" + name + "' is not one of none, langevin, ald");
    };
  }

  /**
   * α of score_sde's correctors: the VP chain's {@code 1 − β} at s, which shrinks the step where
   * the chain contracts; 1 for the other SDEs.
   */
  static double alpha(ForwardSde sde, double s, double eta) {
    return sde.spec().schedule().family() == Schedule.Family.VP
        ? 1 - DiscreteChain.beta(sde, s, eta)
        : 1;
  }

  private static void checkOptions(double snr, int steps) {
    require(snr > 0 && Double.isFinite(snr), "--snr must be > 0, got %s", snr);
    require(steps >= 0, "--corrector-steps must be >= 0, got %s", steps);
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
