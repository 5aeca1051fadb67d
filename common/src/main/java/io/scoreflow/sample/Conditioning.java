package io.scoreflow.sample;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.scoreflow.sde.ForwardSde;

/**
 * A known part of the data that a predictor–corrector sampler keeps, as score_sde's {@code
 * controllable_generation.py} does: after every corrector and predictor update, the known part of
 * the state is replaced by the data's forward-noised copy {@code a1(t) x0 + √a2(t) ξ} at the time t
 * the state has reached. At t = 0 the copy is the data itself, so the known part of the output is
 * the data exactly.
 *
 * <p>Unlike score_sde, the copy after a predictor step is taken at the time the step arrives at (s
 * − η), not the one it left (s): score_sde's off-by-one leaves the known pixels of its output
 * noised at the last grid time.
 */
public sealed interface Conditioning permits Conditioning.Inpaint, Conditioning.Colorize {

  /** {@code x} (a state at time t) with its known part replaced; new arrays in {@code scope}. */
  NDArray apply(NDArray x, ForwardSde sde, double t, NDManager scope);

  /**
   * Inpainting: {@code mask} is 1 where {@code data} is known and 0 where it is to be filled; both
   * broadcast against the state (e.g. one image for a batch of its completions), in the model's
   * space and of the state's data type. The update is {@code x (1 − mask) + (a1 x0 + √a2 ξ) mask}.
   */
  record Inpaint(NDArray data, NDArray mask) implements Conditioning {
    @Override
    public NDArray apply(NDArray x, ForwardSde sde, double t, NDManager scope) {
      NDArray noise = scope.randomNormal(0f, 1f, x.getShape(), x.getDataType());
      NDArray known =
          noise.muli(Math.sqrt(sde.variance(t))).addi(scaled(data, sde.meanCoeff(t), scope));
      // x − x·mask is exactly x where mask = 0 and exactly 0 where mask = 1.
      return x.sub(x.mul(mask)).addi(known.muli(mask));
    }
  }

  /**
   * Colorisation (N × 3 × H × W states): the gray-scale channel {@code y0 = uᵀx}, {@code u = (1, 1,
   * 1)/√3}, is known. score_sde decouples with an orthonormal matrix M whose first column is u,
   * replaces the first decoupled channel and couples back with M⁻¹ = Mᵀ; since M is orthonormal
   * that is exactly {@code x + u (y0' − uᵀx)}, the two colour directions left untouched, which is
   * how it is computed here. {@code gray} (N or 1 × 1 × H × W, model space) is the gray value g of
   * each pixel, so the known {@code y0 = √3 g}.
   */
  record Colorize(NDArray gray) implements Conditioning {
    private static final double ROOT3 = Math.sqrt(3);

    @Override
    public NDArray apply(NDArray x, ForwardSde sde, double t, NDManager scope) {
      long[] s = x.getShape().getShape();
      NDArray y0 = x.sum(new int[] {1}, true).divi(ROOT3);
      NDArray noise =
          scope.randomNormal(
              0f, 1f, new ai.djl.ndarray.types.Shape(s[0], 1, s[2], s[3]), x.getDataType());
      NDArray known =
          noise
              .muli(Math.sqrt(sde.variance(t)))
              .addi(scaled(gray, ROOT3 * sde.meanCoeff(t), scope));
      return x.add(known.subi(y0).divi(ROOT3));
    }
  }

  /**
   * {@code c a} in {@code scope}: an op on a long-lived array (the data) would leave its result in
   * that array's manager, one array per step.
   */
  private static NDArray scaled(NDArray a, double c, NDManager scope) {
    NDArray r = a.mul(c);
    r.attach(scope);
    return r;
  }
}
