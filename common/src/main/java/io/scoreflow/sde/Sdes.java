package io.scoreflow.sde;

import static io.scoreflow.InvalidInputException.require;

import io.scoreflow.InvalidInputException;
import java.util.function.DoubleUnaryOperator;
import net.objecthunter.exp4j.Expression;
import net.objecthunter.exp4j.ExpressionBuilder;

/**
 * Builds a {@link ForwardSde} from a {@link SdeSpec}, validating every parameter against the bounds
 * its {@link Schedule} declares before the schedule builds it.
 */
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
    Schedule schedule = spec.schedule();
    for (Parameter.Number p : schedule.numbers()) {
      p.bound().check(p.key(), spec);
    }
    return schedule.build(spec);
  }

  /** A generic SDE from functions (used by tests to check closed forms against quadrature). */
  public static ForwardSde generic(
      SdeSpec spec, DoubleUnaryOperator f, DoubleUnaryOperator g, double horizon) {
    require(horizon > 0 && Double.isFinite(horizon), "T must be > 0, got %s", horizon);
    return new QuadratureSde(spec, horizon, f, g);
  }

  /** The generic schedule's SDE: f and g parsed from the spec's expressions in {@code t}. */
  static ForwardSde fromExpressions(SdeSpec spec) {
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
}
