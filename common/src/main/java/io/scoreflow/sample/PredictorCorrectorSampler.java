package io.scoreflow.sample;

import static io.scoreflow.InvalidInputException.require;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.scoreflow.sde.ForwardSde;
import java.util.function.IntConsumer;

/**
 * score_sde's predictor–corrector sampler: from the exact-variance prior {@code N(0, a2(T) I)},
 * with η = T/K and for k = 0..K−1 at {@code s = T − kη}, the corrector at s, then one predictor
 * step to s − η. With {@code denoise} (score_sde's default) the last predictor step returns its
 * mean, adding no noise at t ≈ 0.
 *
 * <p>The Euler–Maruyama sampler of Gao, Nguyen and Zhu is the Euler–Maruyama predictor with no
 * corrector and no denoising ({@link #eulerMaruyama}).
 *
 * <p>Randomness comes from the engine's generator on the device that holds the samples, so no noise
 * crosses from host to device; seed it through {@code Engine.setRandomSeed} for repeatable runs.
 */
public record PredictorCorrectorSampler(
    ForwardSde sde, int steps, Predictor predictor, Corrector corrector, boolean denoise)
    implements Sampler {

  public PredictorCorrectorSampler {
    require(steps >= 1, "--steps must be >= 1, got %s", steps);
  }

  /**
   * The Euler–Maruyama reverse sampler: {@code y ← y + η (f(s) y + g(s)² score(y, s)) + √η g(s) ξ}
   * at every step, the last included.
   */
  public static PredictorCorrectorSampler eulerMaruyama(ForwardSde sde, int steps) {
    return new PredictorCorrectorSampler(
        sde, steps, new Predictor.EulerMaruyama(), new Corrector.None(), false);
  }

  @Override
  public NDArray sample(
      ScoreFunction score, Shape shape, DataType dtype, NDManager manager, IntConsumer progress) {
    return sample(score, shape, dtype, manager, progress, null);
  }

  /**
   * Samples keeping a known part of the data ({@code condition}; null: none): it is imposed on the
   * prior draw at T and after every corrector and predictor update ({@link Conditioning}).
   */
  public NDArray sample(
      ScoreFunction score,
      Shape shape,
      DataType dtype,
      NDManager manager,
      IntConsumer progress,
      Conditioning condition) {
    return ReverseTime.run(
        sde,
        steps,
        shape,
        dtype,
        manager,
        progress,
        (y, s, eta, k, scope) -> {
          NDArray x = y;
          if (condition != null && k == 0) {
            x = condition.apply(x, sde, s, scope);
          }
          x = corrector.correct(score, x, sde, s, eta, scope);
          if (condition != null && corrector.corrects()) {
            x = condition.apply(x, sde, s, scope);
          }
          Predictor.Step p = predictor.at(sde, s, eta);
          NDArray next = x.mul(p.a()).addi(score.score(x, s).muli(p.b()));
          if (!denoise || k < steps - 1) {
            next = next.addi(scope.randomNormal(0f, (float) p.noise(), shape, dtype));
          }
          if (condition == null) {
            return next;
          }
          // The time the step arrives at; exactly 0 at the end (s − η may round to a hair above
          // it, where the data's copy would still carry noise of standard deviation √a2(s − η)).
          double arrived = k == steps - 1 ? 0 : sde.horizon() - (k + 1) * eta;
          return condition.apply(next, sde, arrived, scope);
        });
  }
}
