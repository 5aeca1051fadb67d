package io.scoreflow.math;

import java.util.function.DoubleUnaryOperator;

/**
 * Adaptive Gauss–Kronrod (7/15-point) quadrature with recursive bisection. The error estimate of a
 * panel is |K15 − G7|; a panel is split until the estimate is below {@code max(abs, rel·|I|)}.
 *
 * <p>Kronrod nodes and weights are those of QUADPACK's {@code qk15}.
 */
public final class Quadrature {

  private static final double[] XGK = {
    0.991455371120812639206854697526329,
    0.949107912342758524526189684047851,
    0.864864423359769072789712788640926,
    0.741531185599394439863864773280788,
    0.586087235467691130294144845693013,
    0.405845151377397166906606412076961,
    0.207784955007898467600689403773245,
    0.000000000000000000000000000000000
  };
  private static final double[] WGK = {
    0.022935322010529224963732008058970,
    0.063092092629978553290700663189204,
    0.104790010322250183839876322541518,
    0.140653259715525918745189590510238,
    0.169004726639267902826583426598550,
    0.190350578064785409913256402421014,
    0.204432940075298892414161999234649,
    0.209482141084727828012999174891714
  };

  /** Gauss weights of the 7-point rule, on the odd Kronrod nodes (1, 3, 5, 7). */
  private static final double[] WG = {
    0.129484966168869693270611432679082,
    0.279705391489276667901467771423780,
    0.381830050505118944950369775488975,
    0.417959183673469387755102040816327
  };

  private static final int MAX_DEPTH = 50;

  private final double relTol;
  private final double absTol;

  private Quadrature(double relTol, double absTol) {
    this.relTol = relTol;
    this.absTol = absTol;
  }

  /** A rule with the given relative and absolute tolerances. */
  public static Quadrature withTolerance(double relTol, double absTol) {
    if (!(relTol > 0) && !(absTol > 0)) {
      throw new IllegalArgumentException("one of relTol, absTol must be positive");
    }
    return new Quadrature(relTol, absTol);
  }

  /** ∫_a^b h. Returns 0 for an empty interval, and the negated integral when b < a. */
  public double integrate(DoubleUnaryOperator h, double a, double b) {
    if (a == b) {
      return 0;
    }
    if (b < a) {
      return -integrate(h, b, a);
    }
    double[] whole = panel(h, a, b);
    return refine(h, a, b, whole, 0, Math.abs(whole[0]));
  }

  private double refine(
      DoubleUnaryOperator h, double a, double b, double[] estimate, int depth, double scale) {
    double tol = Math.max(absTol, relTol * scale);
    if (estimate[1] <= tol || depth >= MAX_DEPTH || b - a <= Math.ulp(a) * 64) {
      return estimate[0];
    }
    double mid = 0.5 * (a + b);
    double[] left = panel(h, a, mid);
    double[] right = panel(h, mid, b);
    double sum = left[0] + right[0];
    // The tolerance of a sub-panel is relative to the magnitude of the whole integral, not the
    // panel, so that tiny panels of a large integral are not refined without end.
    double newScale = Math.max(scale, Math.abs(sum));
    return refine(h, a, mid, left, depth + 1, newScale)
        + refine(h, mid, b, right, depth + 1, newScale);
  }

  /** {K15 estimate, |K15 − G7|} on [a, b]. */
  private static double[] panel(DoubleUnaryOperator h, double a, double b) {
    double centre = 0.5 * (a + b);
    double half = 0.5 * (b - a);
    double fc = h.applyAsDouble(centre);
    double kronrod = fc * WGK[7];
    double gauss = fc * WG[3];
    for (int j = 0; j < 7; j++) {
      double dx = half * XGK[j];
      double pair = h.applyAsDouble(centre - dx) + h.applyAsDouble(centre + dx);
      kronrod += WGK[j] * pair;
      if (j % 2 == 1) {
        gauss += WG[j / 2] * pair;
      }
    }
    return new double[] {kronrod * half, Math.abs((kronrod - gauss) * half)};
  }
}
