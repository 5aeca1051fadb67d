package io.scoreflow.theory;

import static io.scoreflow.InvalidInputException.require;

import io.scoreflow.InvalidInputException;
import io.scoreflow.sde.ComplexityRow;
import io.scoreflow.sde.Schedule;
import io.scoreflow.sde.SdeSpec;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The leading-order number of Euler–Maruyama steps K for W2 accuracy ε in dimension d, from Table 2
 * of Gao, Nguyen and Zhu, with every hidden constant set to 1 and natural logarithms. The rows are
 * declared with their schedules in {@link Schedule}; this class holds what is common to all of them
 * (the regime the leading-order forms need).
 */
public final class IterationComplexity {

  /**
   * K with the row that gave it.
   *
   * @param exponent the exponent the row was evaluated with (c for VE poly, ρ for VP poly), or NaN
   */
  public record Estimate(double steps, ComplexityRow row, double exponent) {}

  private IterationComplexity() {}

  /** Table 2 as the registry declares it, in the table's order. */
  public static List<ComplexityRow> table() {
    return Arrays.stream(Schedule.values())
        .map(Schedule::complexityRow)
        .flatMap(Optional::stream)
        .sorted(Comparator.comparingInt(ComplexityRow::number))
        .toList();
  }

  /** K for the SDE of {@code spec} in dimension {@code dim} at accuracy {@code eps}. */
  public static Estimate of(SdeSpec spec, double dim, double eps) {
    require(dim >= 1, "--dim must be >= 1, got %s", dim);
    require(eps > 0, "--eps must be > 0, got %s", eps);
    double log = Math.log(dim / eps);
    // The leading-order forms assume the small-ε regime; outside it a log turns K negative.
    require(log > 0, "--eps must be < --dim for the leading-order K, got eps=%s, dim=%s", eps, dim);
    ComplexityRow row =
        spec.schedule()
            .complexityRow()
            .orElseThrow(
                () ->
                    new InvalidInputException(
                        "the iteration complexity is tabulated only for the named schedules, not "
                            + spec.name()));
    double steps = row.steps().of(dim, eps, log, spec);
    return new Estimate(steps, row, row.exponent().applyAsDouble(spec));
  }
}
