package io.scoreflow.train;

import static io.scoreflow.InvalidInputException.require;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import io.scoreflow.math.KeyedRandom;
import io.scoreflow.math.NativeArrays;
import io.scoreflow.run.Parametrisation;
import io.scoreflow.sde.ForwardSde;
import java.nio.FloatBuffer;

/**
 * Continuous-time denoising score matching for any forward SDE: t ~ U(ε, T), {@code x_t = a1 x_0 +
 * √a2 z}, loss {@code λ(t) ‖s_θ(x_t, t) + z/√a2‖²} with λ = a2 (the paper's weighting), averaged
 * over dimensions and samples (score_sde's {@code reduce_mean}, which differs from the sum by the
 * constant dimension).
 *
 * <p>t and z are keyed by (seed, step, global sample index), never drawn from a per-worker
 * generator: a sample gets the same t and z whichever worker holds it, so N workers with B/N each
 * compute exactly the loss terms of one worker with B.
 */
public final class DsmObjective {

  private final ForwardSde sde;
  private final Parametrisation parametrisation;
  private final double eps;
  private final long seed;

  public DsmObjective(ForwardSde sde, Parametrisation parametrisation, double eps, long seed) {
    require(eps > 0 && eps < sde.horizon(), "train.eps must be in (0, T), got %s", eps);
    this.sde = sde;
    this.parametrisation = parametrisation;
    this.eps = eps;
    this.seed = seed;
  }

  public ForwardSde sde() {
    return sde;
  }

  public Parametrisation parametrisation() {
    return parametrisation;
  }

  /**
   * Per-sample coefficients of one batch, computed on the host in double precision (a few floats
   * per sample cross to the device; the noise crosses once, like the data).
   *
   * @param cond the network's conditioning
   * @param mean a1(t)
   * @param std √a2(t)
   * @param residualScale √a2(t) · scoreScale(t): the loss is {@code ‖residualScale · out + z‖²}
   */
  public record Draws(
      float[] t, float[] cond, float[] mean, float[] std, float[] residualScale, float[] noise) {}

  /**
   * Draws t and z for the samples {@code firstGlobalIndex ..} of global batch {@code step}.
   *
   * @param sampleSize scalars per sample
   */
  public Draws draw(long step, long firstGlobalIndex, int count, int sampleSize) {
    float[] t = new float[count];
    float[] cond = new float[count];
    float[] mean = new float[count];
    float[] std = new float[count];
    float[] residual = new float[count];
    float[] noise = new float[count * sampleSize];
    double horizon = sde.horizon();
    for (int i = 0; i < count; i++) {
      long index = firstGlobalIndex + i;
      double u = KeyedRandom.of(seed, KeyedRandom.DSM_TIME, step, index).nextDouble();
      double ti = eps + (horizon - eps) * u;
      double sd = Math.sqrt(sde.variance(ti));
      t[i] = (float) ti;
      cond[i] = (float) parametrisation.cond(sde, ti);
      mean[i] = (float) sde.meanCoeff(ti);
      std[i] = (float) sd;
      residual[i] = (float) (sd * parametrisation.scoreScale(sde, ti));
      KeyedRandom z = KeyedRandom.of(seed, KeyedRandom.DSM_NOISE, step, index);
      int base = i * sampleSize;
      for (int j = 0; j < sampleSize; j++) {
        noise[base + j] = (float) z.nextGaussian();
      }
    }
    return new Draws(t, cond, mean, std, residual, noise);
  }

  /**
   * The loss of a batch {@code x0} (N×…) with its draws, as a scalar owned by {@code scope}. Call
   * inside a gradient collector to train.
   */
  public NDArray loss(
      Block net, ParameterStore store, NDArray x0, Draws d, NDManager scope, boolean training) {
    Shape shape = x0.getShape();
    int n = (int) shape.get(0);
    Shape column = columnShape(shape);
    NDArray mean = NativeArrays.copyOf(scope, FloatBuffer.wrap(d.mean()), column);
    NDArray std = NativeArrays.copyOf(scope, FloatBuffer.wrap(d.std()), column);
    NDArray residual = NativeArrays.copyOf(scope, FloatBuffer.wrap(d.residualScale()), column);
    NDArray z =
        NativeArrays.copyOf(scope, FloatBuffer.wrap(d.noise(), 0, (int) shape.size()), shape);
    NDArray cond = NativeArrays.copyOf(scope, FloatBuffer.wrap(d.cond()), new Shape(n));
    NDArray xt = x0.mul(mean);
    xt.attach(scope);
    xt.addi(z.mul(std));
    NDArray out = net.forward(store, new NDList(xt, cond), training).singletonOrThrow();
    out.attach(scope);
    NDArray loss = out.mul(residual).addi(z).square().mean();
    loss.attach(scope);
    return loss;
  }

  /** (N, 1, 1, …) so that per-sample coefficients broadcast over a sample. */
  static Shape columnShape(Shape batch) {
    long[] dims = new long[batch.dimension()];
    java.util.Arrays.fill(dims, 1);
    dims[0] = batch.get(0);
    return new Shape(dims);
  }
}
