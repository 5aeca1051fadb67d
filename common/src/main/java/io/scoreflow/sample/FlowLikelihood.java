package io.scoreflow.sample;

import static io.scoreflow.InvalidInputException.require;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.scoreflow.InvalidInputException;
import io.scoreflow.math.DormandPrince;
import io.scoreflow.math.GradMode;
import io.scoreflow.sde.ForwardSde;
import java.util.Locale;
import java.util.function.DoubleConsumer;

/**
 * The log-likelihood of data under the probability-flow ODE, as score_sde's {@code likelihood.py}:
 * by the instantaneous change of variables, {@code log q_ε(x) = log π(x(T)) + ∫_ε^T div v(x(t), t)
 * dt} with {@code v = −f x − ½ g² score} the flow's drift and π the exact-variance prior {@code
 * N(0, a2(T) I)} (score_sde's VP prior is N(0, I) and its VE prior N(0, σmax² I); the prior here is
 * the one every sampler of this project starts from). The state x and the accumulated divergence
 * are integrated jointly from ε to T by {@link DormandPrince}, one system for the whole batch.
 *
 * <p>The divergence comes from vector–Jacobian products {@code uᵀ ∂v/∂x} by autograd: either exact
 * (D products with the unit vectors, D passes per evaluation: for small D) or the
 * Hutchinson–Skilling estimate {@code uᵀ (∂v/∂x) u} with one probe u per sample, Gaussian or
 * Rademacher, drawn once and kept for the whole integration (which keeps the ODE smooth and the
 * estimate unbiased).
 */
public final class FlowLikelihood {

  /** score_sde's likelihood eps: the flow is integrated from here (where the score is finite). */
  public static final double DEFAULT_EPS = 1e-5;

  /** How the divergence of the drift is computed. */
  public enum Trace {
    EXACT,
    GAUSSIAN,
    RADEMACHER;

    /** The Hutchinson probe named {@code name} (gaussian, rademacher). */
    public static Trace hutchinson(String name) {
      return switch (name.toLowerCase(Locale.ROOT)) {
        case "gaussian" -> GAUSSIAN;
        case "rademacher" -> RADEMACHER;
        default ->
            throw new InvalidInputException(
                "--hutchinson must be gaussian or rademacher, got '" + name + "'");
      };
    }

    public String label() {
      return this == EXACT ? "exact" : name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * Per sample, {@code log q_ε(x)} in nats (the whole sample, not per dimension), and the solver's
   * right-hand-side evaluations (each one score evaluation for Hutchinson, D for exact).
   */
  public record Result(double[] logLikelihood, int evaluations) {}

  private final ForwardSde sde;
  private final Trace trace;
  private final DormandPrince.Options options;
  private final double eps;
  private final DataType compute;

  /**
   * As {@link #FlowLikelihood(ForwardSde, Trace, DormandPrince.Options, double, DataType)} with the
   * score computed in the state's own type.
   */
  public FlowLikelihood(ForwardSde sde, Trace trace, DormandPrince.Options options, double eps) {
    this(sde, trace, options, eps, null);
  }

  /**
   * @param compute the type the score is evaluated and differentiated in (float32 for a network)
   *     while the solver's state keeps the type of the data it is given (float64, as score_sde's
   *     scipy state); null: the state's type. The cast happens before the autograd leaf, because
   *     DJL's {@code toType} does not pass gradients back: a network that casts its own input would
   *     silently drop out of the divergence.
   */
  public FlowLikelihood(
      ForwardSde sde, Trace trace, DormandPrince.Options options, double eps, DataType compute) {
    require(
        eps > 0 && eps < sde.horizon(), "--eps must be in (0, T=%s), got %s", sde.horizon(), eps);
    this.sde = sde;
    this.trace = trace;
    this.options = options;
    this.eps = eps;
    this.compute = compute;
  }

  public double eps() {
    return eps;
  }

  /** Where the integration ends: the SDE's horizon T. */
  public double horizon() {
    return sde.horizon();
  }

  /**
   * {@code log q_ε} of the batch {@code x} (N×…, any dtype the score takes). Runs with grad mode
   * off except inside each vector–Jacobian product; every array it makes is freed before it
   * returns. {@code progress} receives the time reached after each accepted step.
   */
  public Result logLikelihood(
      ScoreFunction score, NDArray x, NDManager manager, DoubleConsumer progress) {
    return GradMode.off(() -> run(score, x, manager, progress));
  }

  private Result run(ScoreFunction score, NDArray x, NDManager manager, DoubleConsumer progress) {
    Shape shape = x.getShape();
    int n = (int) shape.get(0);
    int d = (int) (shape.size() / n);
    DataType dtype = x.getDataType();
    try (NDManager scope = manager.newSubManager(x.getDevice())) {
      // Back to its own manager when the scope closes; what is made from it is freed with the
      // scope.
      x.tempAttach(scope);
      NDArray probe =
          switch (trace) {
            case EXACT -> null;
            case GAUSSIAN -> scope.randomNormal(0f, 1f, shape, dtype);
            case RADEMACHER ->
                scope
                    .randomUniform(0f, 1f, shape, dtype)
                    .gte(0.5)
                    .toType(dtype, false)
                    .muli(2)
                    .subi(1);
          };
      NDArray[] units = trace == Trace.EXACT ? units(scope, shape, dtype) : null;
      NDArray start = x.reshape(n, d).concat(scope.zeros(new Shape(n, 1), dtype), 1);
      DormandPrince.Solution s =
          DormandPrince.solve(
              (t, y) -> {
                NDArray state = y.get(":, :" + d).reshape(shape);
                NDArray[] driftAndDiv =
                    trace == Trace.EXACT
                        ? exactDivergence(score, state, t, units, d)
                        : hutchinson(score, state, t, probe);
                return driftAndDiv[0].reshape(n, d).concat(driftAndDiv[1].reshape(n, 1), 1);
              },
              eps,
              start,
              sde.horizon(),
              options,
              scope,
              progress);
      NDArray z = s.y().get(":, :" + d);
      NDArray delta = s.y().get(":, " + d);
      double prior = sde.priorVariance();
      NDArray priorLog =
          z.square()
              .sum(new int[] {1})
              .muli(-0.5 / prior)
              .subi(0.5 * d * Math.log(2 * Math.PI * prior));
      double[] logp = priorLog.addi(delta).toType(DataType.FLOAT64, false).toDoubleArray();
      return new Result(logp, s.evaluations());
    }
  }

  /**
   * The drift at (x, t) and, per sample, {@code uᵀ (∂v/∂x) u} for the probe u of x's shape (the
   * exact divergence when {@code probe} is null), as the solver's right-hand side computes them.
   */
  NDArray[] driftAndDivergence(ScoreFunction score, NDArray x, double t, NDArray probe) {
    return GradMode.off(
        () ->
            probe == null
                ? exactDivergence(
                    score,
                    x,
                    t,
                    units(x.getManager(), x.getShape(), x.getDataType()),
                    (int) (x.getShape().size() / x.getShape().get(0)))
                : hutchinson(score, x, t, probe));
  }

  /** The drift (detached) and {@code uᵀ (∂v/∂x) u} per sample. */
  private NDArray[] hutchinson(ScoreFunction score, NDArray x, double t, NDArray probe) {
    NDArray[] vjp = vectorJacobian(score, x, t, probe);
    return new NDArray[] {vjp[0], sumPerSample(vjp[1].mul(probe))};
  }

  /** The drift (detached) and the trace {@code Σ_i e_iᵀ (∂v/∂x) e_i}, by D products. */
  private NDArray[] exactDivergence(
      ScoreFunction score, NDArray x, double t, NDArray[] units, int d) {
    NDArray drift = null;
    NDArray div = null;
    for (int i = 0; i < d; i++) {
      NDArray[] vjp = vectorJacobian(score, x, t, units[i]);
      NDArray diagonal = vjp[1].reshape(x.getShape().get(0), d).get(":, " + i);
      div = div == null ? diagonal : div.addi(diagonal);
      if (drift == null) {
        drift = vjp[0];
      }
    }
    return new NDArray[] {drift, div};
  }

  /**
   * The drift at (x, t), detached, and {@code uᵀ ∂v/∂x} (u broadcast over the batch): one forward
   * and one backward pass, on a fresh leaf copy of x so nothing accumulates between calls.
   */
  private NDArray[] vectorJacobian(ScoreFunction score, NDArray x, double t, NDArray u) {
    DataType state = x.getDataType();
    DataType type = compute == null ? state : compute;
    NDArray leaf = x.toType(type, true);
    leaf.setRequiresGradient(true);
    u = u.toType(type, false);
    NDArray drift;
    NDArray grad;
    try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
      NDArray v = Rk45FlowSampler.drift(sde, score, leaf, t);
      collector.backward(v.mul(u).sum());
      drift = v.stopGradient().toType(state, false);
      grad = leaf.getGradient().toType(state, true);
    }
    return new NDArray[] {drift, grad};
  }

  /** The D unit vectors, each of one sample's shape with a leading 1 (broadcast over a batch). */
  private static NDArray[] units(NDManager manager, Shape batchShape, DataType dtype) {
    Shape unitShape = new Shape(1).addAll(batchShape.slice(1));
    int d = (int) unitShape.size();
    NDArray eye = manager.eye(d).toType(dtype, false);
    NDArray[] units = new NDArray[d];
    for (int i = 0; i < d; i++) {
      units[i] = eye.get(i).reshape(unitShape);
    }
    return units;
  }

  private static NDArray sumPerSample(NDArray a) {
    long n = a.getShape().get(0);
    return a.reshape(n, -1).sum(new int[] {1});
  }
}
