package io.scoreflow.theory;

import static io.scoreflow.InvalidInputException.require;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.scoreflow.math.DormandPrince;
import io.scoreflow.sample.FlowLikelihood;
import io.scoreflow.sample.GaussianScore;
import io.scoreflow.sde.ForwardSde;
import java.util.function.DoubleConsumer;

/**
 * The ODE likelihood of the theory lab: samples of Gaussian data {@code N(m·1, s² I_d)}, the exact
 * score, and the closed forms to compare with.
 *
 * <p>With the exact score the flow is affine: {@code x(t) − a(t) m = √(v(t)/v(ε)) (x(ε) − a(ε) m)}
 * with {@code v = a² s² + a2}. Integrated from ε it maps the marginal {@code p_ε = N(a(ε) m, v(ε))}
 * onto {@code p_T}; but the likelihood starts from the prior π = N(0, a2(T) I), not p_T, so the
 * density it computes is π pulled back through that map: {@code q_ε = N(a(ε) m − r a(T) m, r²
 * a2(T))} per coordinate, {@code r = √(v(ε)/v(T))}. The estimate's expectation is the cross entropy
 * {@code −E log q_ε(x)} under the samples' law N(m, s²) — {@link Result#exact}; {@code −E log
 * p_ε(x)} ({@link Result#marginal}) differs from it by the prior's mismatch with p_T (about a(T)²
 * for VP, (m² + s²)/σmax² for VE), and both exceed the data's own entropy.
 */
public final class GaussianLikelihood {

  /** What to estimate with: sample count, divergence, solver, start time and seed. */
  public record Options(
      int samples, FlowLikelihood.Trace trace, DormandPrince.Options ode, double eps, long seed) {
    public Options {
      require(samples >= 2, "--samples must be >= 2, got %s", samples);
    }
  }

  /**
   * All per dimension, in nats: the mean of {@code −log q_ε(x)/d} over the samples and its standard
   * error, the exact {@code −E log q_ε / d}, {@code −E log p_ε / d}, the data's entropy, and the
   * solver's evaluations.
   */
  public record Result(
      double estimate,
      double stderr,
      double exact,
      double marginal,
      double dataEntropy,
      int evaluations) {}

  private GaussianLikelihood() {}

  /** The marginal law of the forward process at t for data {@code law}. */
  public static GaussianLaw marginal(ForwardSde sde, GaussianLaw law, double t) {
    double a = sde.meanCoeff(t);
    return new GaussianLaw(
        a * law.mean(), Math.sqrt(a * a * law.std() * law.std() + sde.variance(t)), law.dim());
  }

  /** The density the flow assigns at ε: the prior pulled back through the exact flow from T. */
  public static GaussianLaw model(ForwardSde sde, GaussianLaw law, double eps) {
    GaussianLaw start = marginal(sde, law, eps);
    GaussianLaw end = marginal(sde, law, sde.horizon());
    double r = start.std() / end.std();
    return new GaussianLaw(
        start.mean() - r * end.mean(), r * Math.sqrt(sde.priorVariance()), law.dim());
  }

  /** {@code −E_{x∼p} log q(x) / d} for isotropic Gaussians p and q. */
  public static double crossEntropyPerDim(GaussianLaw p, GaussianLaw q) {
    double vq = q.std() * q.std();
    double dm = p.mean() - q.mean();
    return 0.5 * Math.log(2 * Math.PI * vq) + (p.std() * p.std() + dm * dm) / (2 * vq);
  }

  /** {@code −log q(x) / d} of one point (d coordinates) under an isotropic Gaussian. */
  public static double nllPerDim(GaussianLaw q, double[] x) {
    double vq = q.std() * q.std();
    double sum = 0;
    for (double xi : x) {
      sum += (xi - q.mean()) * (xi - q.mean());
    }
    return 0.5 * Math.log(2 * Math.PI * vq) + sum / (2 * vq * x.length);
  }

  /**
   * Draws {@code samples} points of {@code law} (float64, the engine's generator seeded with {@code
   * seed}) and estimates their negative log-likelihood under the flow of the exact score.
   */
  public static Result run(ForwardSde sde, GaussianLaw law, Options o, DoubleConsumer progress) {
    require(law.std() > 0, "--data-std must be > 0 for a likelihood, got %s", law.std());
    Engine.getInstance().setRandomSeed((int) o.seed());
    FlowLikelihood flow = new FlowLikelihood(sde, o.trace(), o.ode(), o.eps());
    FlowLikelihood.Result r;
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray x =
          manager
              .randomNormal(0f, 1f, new Shape(o.samples(), law.dim()), DataType.FLOAT64)
              .muli(law.std())
              .addi(law.mean());
      r = flow.logLikelihood(new GaussianScore(sde, law.mean(), law.std()), x, manager, progress);
    }
    double sum = 0;
    double sumSq = 0;
    for (double logp : r.logLikelihood()) {
      double v = -logp / law.dim();
      sum += v;
      sumSq += v * v;
    }
    int n = o.samples();
    double mean = sum / n;
    double var = Math.max(0, (sumSq - n * mean * mean) / (n - 1));
    return new Result(
        mean,
        Math.sqrt(var / n),
        crossEntropyPerDim(law, model(sde, law, o.eps())),
        crossEntropyPerDim(law, marginal(sde, law, o.eps())),
        0.5 * Math.log(2 * Math.PI * Math.E * law.std() * law.std()),
        r.evaluations());
  }
}
