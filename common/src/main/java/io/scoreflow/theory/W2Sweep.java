package io.scoreflow.theory;

import io.scoreflow.sde.ForwardSde;
import java.util.ArrayList;
import java.util.List;

/** W2 of the Euler–Maruyama sampler against the number of steps K, for several SDEs. */
public final class W2Sweep {

  /** One (K, W2) point. */
  public record Point(int steps, double w2) {}

  /** One SDE's curve with the least-squares slope of log W2 against log K. */
  public record Curve(String label, ForwardSde sde, List<Point> points, double slope) {}

  private W2Sweep() {}

  /** The curve of {@code sde} over {@code steps}. */
  public static Curve curve(String label, ForwardSde sde, List<Integer> steps, GaussianLaw data) {
    List<Point> points = new ArrayList<>();
    for (int k : steps) {
      points.add(new Point(k, SamplerRecursion.w2(sde, k, data)));
    }
    return new Curve(label, sde, List.copyOf(points), logLogSlope(points));
  }

  /**
   * The slope of the least-squares line through (log K, log W2); NaN with fewer than two points or
   * where a W2 is zero (no logarithm).
   */
  static double logLogSlope(List<Point> points) {
    int n = points.size();
    if (n < 2) {
      return Double.NaN;
    }
    double sx = 0;
    double sy = 0;
    for (Point p : points) {
      if (!(p.w2() > 0)) {
        return Double.NaN;
      }
      sx += Math.log(p.steps());
      sy += Math.log(p.w2());
    }
    double mx = sx / n;
    double my = sy / n;
    double sxy = 0;
    double sxx = 0;
    for (Point p : points) {
      double dx = Math.log(p.steps()) - mx;
      sxy += dx * (Math.log(p.w2()) - my);
      sxx += dx * dx;
    }
    return sxx == 0 ? Double.NaN : sxy / sxx;
  }
}
