package io.scoreflow.sde;

import static io.scoreflow.InvalidInputException.require;

import io.scoreflow.InvalidInputException;
import java.util.function.DoubleUnaryOperator;
import net.objecthunter.exp4j.Expression;
import net.objecthunter.exp4j.ExpressionBuilder;

/** Builds a {@link ForwardSde} from a {@link SdeSpec}, validating every parameter. */
public final class Sdes {

  private Sdes() {}

  /** The SDE the spec describes; bad parameters end in an {@link InvalidInputException}. */
  public static ForwardSde create(SdeSpec spec) {
    double horizon = spec.horizon();
    require(horizon > 0 && Double.isFinite(horizon), "T must be > 0, got %s", horizon);
    for (var e : spec.params().entrySet()) {
      require(
          Double.isFinite(e.getValue()), "--%s must be finite, got %s", e.getKey(), e.getValue());
    }
    return switch (spec.schedule()) {
      case VP_LINEAR -> {
        double[] range = betaRange(spec);
        yield new VpSde(spec, new BetaSchedule.Linear(range[0], range[1]));
      }
      case VP_CONSTANT -> {
        double beta = spec.param("beta");
        require(beta > 0, "--beta must be > 0, got %s", beta);
        yield new VpSde(spec, new BetaSchedule.Constant(beta));
      }
      case VP_POLY -> {
        double[] range = betaRange(spec);
        yield new VpSde(spec, BetaSchedule.Poly.of(range[0], range[1], rho(spec)));
      }
      case VP_EXP -> {
        double[] range = betaRange(spec);
        yield new VpSde(spec, BetaSchedule.Exp.of(range[0], range[1]));
      }
      case VE_EXP -> {
        double[] range = sigmaRange(spec);
        yield new VeSde(spec, SigmaSchedule.Exp.of(range[0], range[1]));
      }
      case VE_CONSTANT -> {
        double[] range = sigmaRange(spec);
        yield new VeSde(
            spec, new SigmaSchedule.Linear(range[0], range[1] * range[1] - range[0] * range[0]));
      }
      case VE_SQRT -> {
        double[] range = sigmaRange(spec);
        yield new VeSde(
            spec, new SigmaSchedule.Quadratic(range[0], range[1] * range[1] - range[0] * range[0]));
      }
      case VE_POLY -> {
        double[] range = sigmaRange(spec);
        yield new VeSde(spec, SigmaSchedule.Poly.of(range[0], range[1], rho(spec)));
      }
      case GENERIC -> generic(spec);
    };
  }

  /** A generic SDE from functions (used by tests to check closed forms against quadrature). */
  public static ForwardSde generic(
      SdeSpec spec, DoubleUnaryOperator f, DoubleUnaryOperator g, double horizon) {
    require(horizon > 0 && Double.isFinite(horizon), "T must be > 0, got %s", horizon);
    return new QuadratureSde(spec, horizon, f, g);
  }

  private static ForwardSde generic(SdeSpec spec) {
    DoubleUnaryOperator f = expression("f", spec.expressions().get("f"));
    DoubleUnaryOperator g = expression("g", spec.expressions().get("g"));
    double horizon = spec.horizon();
    // Catch the obvious mistakes now rather than deep inside a sampler: f and g must be finite
    // on the horizon, and g is a diffusion coefficient, not a variance, so it must not be negative.
    for (int i = 0; i <= 16; i++) {
      double t = horizon * i / 16;
      double fv = f.applyAsDouble(t);
      double gv = g.applyAsDouble(t);
      require(Double.isFinite(fv), "--f is not finite at t=%s (f=%s)", t, fv);
      require(Double.isFinite(gv) && gv >= 0, "--g must be finite and >= 0, at t=%s g=%s", t, gv);
    }
    return new QuadratureSde(spec, horizon, f, g);
  }

  private static DoubleUnaryOperator expression(String key, String text) {
    Expression parsed;
    try {
      parsed = new ExpressionBuilder(text).variable("t").build();
    } catch (RuntimeException e) {
      throw new InvalidInputException(
          "--" + key + " '" + text + "' is not an expression in t: " + e.getMessage(), e);
    }
    var validation = parsed.validate(false);
    require(
        validation.isValid(),
        "--%s '%s' is not an expression in t: %s",
        key,
        text,
        validation.getErrors());
    // exp4j expressions hold their variable values, so each thread evaluates its own copy.
    ThreadLocal<Expression> local = ThreadLocal.withInitial(() -> new Expression(parsed));
    return t -> {
      try {
        return local.get().setVariable("t", t).evaluate();
      } catch (ArithmeticException e) {
        throw new InvalidInputException(
            "--" + key + " '" + text + "' is not finite at t=" + t + ": " + e.getMessage(), e);
      }
    };
  }

  private static double[] betaRange(SdeSpec spec) {
    double min = spec.param("beta-min");
    double max = spec.param("beta-max");
    require(min > 0, "--beta-min must be > 0, got %s", min);
    require(max >= min, "--beta-max must be >= --beta-min, got %s < %s", max, min);
    return new double[] {min, max};
  }

  private static double[] sigmaRange(SdeSpec spec) {
    double min = spec.param("sigma-min");
    double max = spec.param("sigma-max");
    require(min > 0, "--sigma-min must be > 0, got %s", min);
    require(max > min, "--sigma-max must be > --sigma-min, got %s <= %s", max, min);
    return new double[] {min, max};
  }

  private static double rho(SdeSpec spec) {
    double rho = spec.param("rho");
    require(rho > 0, "--rho must be > 0, got %s", rho);
    return rho;
  }
}
