package io.scoreflow.sde;

import java.util.function.ToDoubleFunction;

/**
 * One row of Table 2 of Gao, Nguyen and Zhu: the form of (f, g), the form of the leading-order
 * number of Euler–Maruyama steps K, and K itself with every hidden constant set to 1. It lives with
 * the schedule it belongs to (in {@link Schedule}), so a new schedule brings its own row.
 *
 * @param number the row's number in the table, counted from 1
 * @param schedule the form of f and g, as the table writes it
 * @param complexity the form of K, as the table writes it
 * @param steps K for dimension d, accuracy eps and {@code log = ln(d/eps) > 0}
 * @param exponent the exponent the row is evaluated with (e.g. ρ), or NaN if the row has none
 */
public record ComplexityRow(
    int number,
    String schedule,
    String complexity,
    Steps steps,
    ToDoubleFunction<SdeSpec> exponent) {

  /** A row without an exponent. */
  public ComplexityRow(int number, String schedule, String complexity, Steps steps) {
    this(number, schedule, complexity, steps, spec -> Double.NaN);
  }

  /** K as a function of the dimension, the accuracy, {@code ln(d/eps)} and the SDE's parameters. */
  @FunctionalInterface
  public interface Steps {
    double of(double d, double eps, double log, SdeSpec spec);
  }
}
