package io.scoreflow.math;

import static io.scoreflow.InvalidInputException.require;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.scoreflow.InvalidInputException;
import java.util.Locale;
import java.util.function.DoubleConsumer;

/**
 * The adaptive explicit Runge–Kutta 5(4) pair of Dormand and Prince on NDArrays, step for step as
 * scipy's {@code solve_ivp(method="RK45")} (which score_sde's samplers and likelihood call): the
 * fifth-order solution is propagated, the embedded fourth-order one gives the error, its norm is
 * the RMS of {@code err / (atol + rtol·max(|y0|, |y1|))} over every component of the state, a step
 * is accepted when that norm is below 1, and the next step is scaled by {@code 0.9·norm^(−1/5)}
 * clipped to [0.2, 10] (never grown right after a rejection). The first step is scipy's {@code
 * select_initial_step}. The whole state shares one step size, so a batch is integrated as one
 * system, as score_sde does.
 *
 * <p>The state stays on its device: only the error norm (one scalar per attempt) comes to the host.
 */
public final class DormandPrince {

  // Butcher tableau (scipy.integrate._ivp.rk.RK45).
  private static final double[] C = {0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1};
  private static final double[][] A = {
    {},
    {1.0 / 5},
    {3.0 / 40, 9.0 / 40},
    {44.0 / 45, -56.0 / 15, 32.0 / 9},
    {19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729},
    {9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656}
  };
  private static final double[] B = {
    35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84
  };
  // Fifth- minus fourth-order weights over the six stages and f(t + h, y_new).
  private static final double[] E = {
    -71.0 / 57600, 0, 71.0 / 16695, -71.0 / 1920, 17253.0 / 339200, -22.0 / 525, 1.0 / 40
  };
  private static final int ERROR_ORDER = 4;
  private static final double SAFETY = 0.9;
  private static final double MIN_FACTOR = 0.2;
  private static final double MAX_FACTOR = 10;

  /** The right-hand side {@code dy/dt = f(t, y)}; its result must belong to y's manager. */
  @FunctionalInterface
  public interface Rhs {
    NDArray apply(double t, NDArray y);
  }

  /**
   * Tolerances and a cap on right-hand-side evaluations (the network passes a sampler may spend).
   */
  public record Options(double rtol, double atol, int maxEvaluations) {
    public Options {
      require(rtol > 0 && rtol < 1, "--rtol must be in (0, 1), got %s", rtol);
      require(atol > 0, "--atol must be > 0, got %s", atol);
      require(maxEvaluations >= 2, "the evaluation cap must be >= 2, got %s", maxEvaluations);
    }

    /** score_sde's tolerances (1e-5 both) with a cap of 100000 evaluations. */
    public static Options of(double rtol, double atol) {
      return new Options(rtol, atol, 100_000);
    }
  }

  /** The state at the end time and what it cost. */
  public record Solution(NDArray y, int evaluations, int accepted, int rejected) {}

  private DormandPrince() {}

  /**
   * Integrates from {@code (t0, y0)} to {@code t1} (either direction). The result belongs to {@code
   * manager}; {@code y0} is left as it was. {@code progress} receives the time after each accepted
   * step.
   *
   * @throws InvalidInputException when the cap on evaluations is reached, or the step size falls
   *     below what double time can resolve, before t1
   */
  public static Solution solve(
      Rhs f,
      double t0,
      NDArray y0,
      double t1,
      Options options,
      NDManager manager,
      DoubleConsumer progress) {
    double direction = Math.signum(t1 - t0);
    NDArray y = y0.duplicate();
    y.attach(manager);
    if (direction == 0) {
      return new Solution(y, 0, 0, 0);
    }
    NDArray fy;
    double hAbs;
    int evaluations = 0;
    try (NDManager scope = manager.newSubManager()) {
      y.tempAttach(scope);
      fy = f.apply(t0, y);
      evaluations++;
      hAbs = initialStep(f, t0, y, fy, t1, direction, options);
      evaluations++;
      fy.attach(manager);
    }
    double t = t0;
    int accepted = 0;
    int rejected = 0;
    while (direction * (t1 - t) > 0) {
      double minStep = 10 * Math.abs(Math.nextAfter(t, direction * Double.POSITIVE_INFINITY) - t);
      hAbs = Math.max(hAbs, minStep);
      boolean stepRejected = false;
      while (true) {
        if (hAbs < minStep) {
          throw new InvalidInputException(
              String.format(
                  Locale.ROOT,
                  "RK45 step size fell below %.3g at t=%s: the ODE is too stiff for rtol=%s,"
                      + " atol=%s",
                  minStep,
                  t,
                  options.rtol(),
                  options.atol()));
        }
        if (evaluations + 6 > options.maxEvaluations()) {
          throw new InvalidInputException(
              String.format(
                  Locale.ROOT,
                  "RK45 reached its cap of %d evaluations at t=%s before t=%s: loosen --rtol/--atol",
                  options.maxEvaluations(),
                  t,
                  t1));
        }
        double tNew = t + hAbs * direction;
        if (direction * (tNew - t1) > 0) {
          tNew = t1;
        }
        double h = tNew - t;
        hAbs = Math.abs(h);
        NDArray yNew;
        NDArray fNew;
        double errorNorm;
        try (NDManager scope = manager.newSubManager()) {
          y.tempAttach(scope);
          fy.tempAttach(scope);
          NDArray[] k = new NDArray[7];
          k[0] = fy;
          for (int s = 1; s < 6; s++) {
            NDArray ys = y.add(combination(k, A[s], h));
            k[s] = f.apply(t + C[s] * h, ys);
          }
          yNew = y.add(combination(k, B, h));
          fNew = f.apply(tNew, yNew);
          k[6] = fNew;
          evaluations += 6;
          NDArray scale = y.abs().maximum(yNew.abs()).muli(options.rtol()).addi(options.atol());
          NDArray err = combination(k, E, h).divi(scale);
          errorNorm = scalar(err.square().mean().sqrt());
          if (errorNorm < 1) {
            yNew.attach(manager);
            fNew.attach(manager);
          }
        }
        if (errorNorm < 1) {
          double factor =
              errorNorm == 0
                  ? MAX_FACTOR
                  : Math.min(MAX_FACTOR, SAFETY * Math.pow(errorNorm, -1.0 / (ERROR_ORDER + 1)));
          if (stepRejected) {
            factor = Math.min(1, factor);
          }
          hAbs *= factor;
          y.close();
          fy.close();
          y = yNew;
          fy = fNew;
          t = tNew;
          accepted++;
          progress.accept(t);
          break;
        }
        // A NaN norm (a non-finite state) also lands here and shrinks the step until minStep.
        hAbs *= Math.max(MIN_FACTOR, SAFETY * Math.pow(errorNorm, -1.0 / (ERROR_ORDER + 1)));
        stepRejected = true;
        rejected++;
      }
    }
    fy.close();
    return new Solution(y, evaluations, accepted, rejected);
  }

  /** scipy's select_initial_step, with its one extra evaluation; runs in y's manager. */
  private static double initialStep(
      Rhs f, double t0, NDArray y0, NDArray f0, double t1, double direction, Options o) {
    double interval = Math.abs(t1 - t0);
    NDArray scale = y0.abs().muli(o.rtol()).addi(o.atol());
    double d0 = rms(y0.div(scale));
    double d1 = rms(f0.div(scale));
    double h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * d0 / d1;
    h0 = Math.min(h0, interval);
    NDArray y1 = y0.add(f0.mul(h0 * direction));
    NDArray f1 = f.apply(t0 + h0 * direction, y1);
    double d2 = rms(f1.sub(f0).divi(scale)) / h0;
    double h1 =
        d1 <= 1e-15 && d2 <= 1e-15
            ? Math.max(1e-6, h0 * 1e-3)
            : Math.pow(0.01 / Math.max(d1, d2), 1.0 / (ERROR_ORDER + 1));
    return Math.min(Math.min(100 * h0, h1), interval);
  }

  /** {@code h · Σ w_i k_i} over the nonzero weights. */
  private static NDArray combination(NDArray[] k, double[] w, double h) {
    NDArray sum = null;
    for (int i = 0; i < w.length; i++) {
      if (w[i] == 0) {
        continue;
      }
      NDArray term = k[i].mul(w[i] * h);
      sum = sum == null ? term : sum.addi(term);
    }
    return sum;
  }

  private static double rms(NDArray a) {
    return scalar(a.square().mean().sqrt());
  }

  /** A scalar of any floating type as a double (getDouble insists on float64). */
  private static double scalar(NDArray a) {
    return a.toType(DataType.FLOAT64, false).getDouble();
  }
}
