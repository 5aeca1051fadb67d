package io.scoreflow.sample;

import ai.djl.ndarray.NDArray;
import io.scoreflow.sde.ForwardSde;

/**
 * The exact score for data {@code N(m·1, S² I)}: the forward marginal at t is {@code N(a1 m, a1² S²
 * + a2)}, so {@code ∇ log p_t(x) = −(x − a1 m) / (a1² S² + a2)}.
 */
public record GaussianScore(ForwardSde sde, double mean, double std) implements ScoreFunction {

  @Override
  public NDArray score(NDArray x, double t) {
    double a1 = sde.meanCoeff(t);
    double v = a1 * a1 * std * std + sde.variance(t);
    return x.sub(a1 * mean).muli(-1 / v);
  }
}
