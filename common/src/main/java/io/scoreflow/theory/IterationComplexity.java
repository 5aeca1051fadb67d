package io.scoreflow.theory;

import static io.scoreflow.InvalidInputException.require;

import io.scoreflow.InvalidInputException;
import io.scoreflow.sde.SdeSpec;

/**
 * The leading-order number of Euler–Maruyama steps K for W2 accuracy ε in dimension d, from Table 2
 * of Gao, Nguyen and Zhu, with every hidden constant set to 1 and natural logarithms.
 */
public final class IterationComplexity {

  /** One row of Table 2: the form of (f, g) and of K. */
  public enum Row {
    VE_EXP("f = 0, g = a e^(bt)", "d log(d/eps) / eps^2"),
    VE_CONSTANT("f = 0, g = a", "d^(3/2) log(d/eps) / eps^3"),
    VE_SQRT("f = 0, g = sqrt(2at)", "d^(5/4) / eps^(5/2)"),
    VE_POLY("f = 0, g = (b+at)^c", "d^(1/(2(2c+1))+1) / eps^(1/(2c+1)+2)"),
    VP_CONSTANT("f = alpha, g = sigma", "d log(d/eps) / eps^2"),
    VP_LINEAR("f = (b+at)/2, g = sqrt(b+at)", "d sqrt(log(d/eps)) / eps^2"),
    VP_POLY("f = (b+at)^rho/2, g = (b+at)^(rho/2)", "d (log(d/eps))^(1/(rho+1)) / eps^2"),
    VP_EXP("f = a e^(bt)/2, g = sqrt(a) e^(bt/2)", "d log(log(d/eps)) / eps^2");

    private final String schedule;
    private final String complexity;

    Row(String schedule, String complexity) {
      this.schedule = schedule;
      this.complexity = complexity;
    }

    /** The form of f and g, as the table writes it. */
    public String schedule() {
      return schedule;
    }

    /** The form of K, as the table writes it. */
    public String complexity() {
      return complexity;
    }

    /** "row N" with N counted from 1 in the table's order. */
    public int number() {
      return ordinal() + 1;
    }
  }

  /**
   * K with the row that gave it.
   *
   * @param exponent the exponent the row was evaluated with (c for VE poly, ρ for VP poly), or NaN
   */
  public record Estimate(double steps, Row row, double exponent) {}

  private IterationComplexity() {}

  /** K for the SDE of {@code spec} in dimension {@code dim} at accuracy {@code eps}. */
  public static Estimate of(SdeSpec spec, double dim, double eps) {
    require(dim >= 1, "--dim must be >= 1, got %s", dim);
    require(eps > 0, "--eps must be > 0, got %s", eps);
    double d = dim;
    double log = Math.log(d / eps);
    // The leading-order forms assume the small-ε regime; outside it a log turns K negative.
    require(log > 0, "--eps must be < --dim for the leading-order K, got eps=%s, dim=%s", eps, dim);
    require(
        spec.schedule() != io.scoreflow.sde.Schedule.VP_EXP || log > 1,
        "vp-exp's K has log(log(d/eps)): it needs d/eps > e, got d/eps=%s",
        d / eps);
    double eps2 = eps * eps;
    return switch (spec.schedule()) {
      case VE_EXP -> new Estimate(d * log / eps2, Row.VE_EXP, Double.NaN);
      case VE_CONSTANT ->
          new Estimate(Math.pow(d, 1.5) * log / (eps2 * eps), Row.VE_CONSTANT, Double.NaN);
      case VE_SQRT -> new Estimate(Math.pow(d, 1.25) / Math.pow(eps, 2.5), Row.VE_SQRT, Double.NaN);
      case VE_POLY -> {
        // In σ-form, σ = (b+at)^ρ gives g = √(2ρa) (b+at)^(ρ−½): the row's exponent is c = ρ − ½.
        double c = spec.param("rho") - 0.5;
        double q = 2 * c + 1;
        yield new Estimate(Math.pow(d, 1 / (2 * q) + 1) / Math.pow(eps, 1 / q + 2), Row.VE_POLY, c);
      }
      case VP_CONSTANT -> new Estimate(d * log / eps2, Row.VP_CONSTANT, Double.NaN);
      case VP_LINEAR -> new Estimate(d * Math.sqrt(log) / eps2, Row.VP_LINEAR, Double.NaN);
      case VP_POLY -> {
        double rho = spec.param("rho");
        yield new Estimate(d * Math.pow(log, 1 / (rho + 1)) / eps2, Row.VP_POLY, rho);
      }
      case VP_EXP -> new Estimate(d * Math.log(log) / eps2, Row.VP_EXP, Double.NaN);
      case GENERIC ->
          throw new InvalidInputException(
              "the iteration complexity is tabulated only for the named schedules, not generic");
    };
  }
}
