package io.scoreflow.sample;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.typesafe.config.Config;
import io.scoreflow.InvalidInputException;
import io.scoreflow.math.DormandPrince;
import io.scoreflow.sde.ForwardSde;
import java.util.function.IntConsumer;

/** A reverse-time sampler: from the prior at T to samples at 0, driven by a score function. */
public sealed interface Sampler
    permits PredictorCorrectorSampler, ProbabilityFlowSampler, Rk45FlowSampler {

  /** Draws {@code shape[0]} samples into {@code manager}, reporting each finished step (1..K). */
  NDArray sample(
      ScoreFunction score, Shape shape, DataType dtype, NDManager manager, IntConsumer progress);

  /** Number of steps K. */
  int steps();

  default NDArray sample(ScoreFunction score, Shape shape, DataType dtype, NDManager manager) {
    return sample(score, shape, dtype, manager, k -> {});
  }

  /**
   * The sampler named {@code name} (euler-maruyama, pc, ode, ode-euler) with the options of {@code
   * c} (a {@code scoreflow.sample} block: pc's predictor, corrector, snr and corrector-steps; ode's
   * rtol and atol).
   */
  static Sampler of(String name, ForwardSde sde, int steps, Config c) {
    return switch (name) {
      case "euler-maruyama", "em" -> PredictorCorrectorSampler.eulerMaruyama(sde, steps);
      case "pc" ->
          new PredictorCorrectorSampler(
              sde,
              steps,
              Predictor.of(c.getString("predictor"), sde),
              Corrector.of(
                  c.getString("corrector"), c.getDouble("snr"), c.getInt("corrector-steps")),
              true);
      case "ode" ->
          new Rk45FlowSampler(
              sde, steps, DormandPrince.Options.of(c.getDouble("rtol"), c.getDouble("atol")));
      case "ode-euler" -> new ProbabilityFlowSampler(sde, steps);
      default ->
          throw new InvalidInputException(
              "sampler '" + name + "' is not one of euler-maruyama (em), pc, ode, ode-euler");
    };
  }
}
