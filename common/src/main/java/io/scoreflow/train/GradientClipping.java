package io.scoreflow.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/** Global-norm clipping as torch.nn.utils.clip_grad_norm_ does it, without leaving the device. */
public final class GradientClipping {

  private GradientClipping() {}

  /**
   * Scales {@code flat} in place by {@code min(1, max / (‖flat‖ + 1e-6))} and returns the norm
   * before clipping (a scalar on the device: reading it is a sync, so read it only when logging).
   */
  public static NDArray clipGlobalNorm(NDArray flat, double max, NDManager scope) {
    NDArray norm = flat.square().sum().sqrt();
    norm.attach(scope);
    if (max > 0) {
      NDArray coef = norm.add(1e-6).pow(-1).muli(max).minimum(1f);
      coef.attach(scope);
      flat.muli(coef);
    }
    return norm;
  }
}
