package io.scoreflow.sample;

import ai.djl.ndarray.NDArray;

/**
 * An estimate of the score {@code ∇ log p_t(x)} of the forward marginal at time t, for a batch x
 * that shares one time (as every step of a reverse sampler does).
 *
 * <p>The result must belong to x's manager (write ops with x as the first operand), so that a
 * sampler's per-step scope frees it.
 */
@FunctionalInterface
public interface ScoreFunction {
  NDArray score(NDArray x, double t);
}
