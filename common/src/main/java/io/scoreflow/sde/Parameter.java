package io.scoreflow.sde;

import static io.scoreflow.InvalidInputException.require;

/**
 * A parameter a schedule takes: its key is at once the CLI flag ({@code --key}), the inline key of
 * {@code NAME:key=value} and the config key under {@code scoreflow.sde.NAME}. Declaring it once in
 * {@link Schedule} is what lets the CLI, the config and the validation follow a new schedule
 * without being edited.
 */
public sealed interface Parameter permits Parameter.Number, Parameter.Expression {

  /** The key, e.g. {@code beta-min}. */
  String key();

  /**
   * What it is, for help text (a phrase, no final period); one key has one meaning across all
   * schedules, since it is one flag.
   */
  String meaning();

  /**
   * A numeric parameter with its default (the paper's CIFAR-10 value) and the bound it must obey.
   */
  record Number(String key, String meaning, double defaultValue, Bound bound)
      implements Parameter {}

  /** An expression in {@code t} (the generic schedule's f and g); it has no default. */
  record Expression(String key, String meaning) implements Parameter {}

  /**
   * What a numeric parameter must satisfy beyond being finite. Checked in declaration order, so a
   * bound may name a parameter declared before it.
   */
  sealed interface Bound permits Bound.Positive, Bound.AtLeast, Bound.Above {

    /** Rejects {@code spec}'s value of {@code key} with a message naming the flag. */
    void check(String key, SdeSpec spec);

    /** {@code > 0}. */
    record Positive() implements Bound {
      @Override
      public void check(String key, SdeSpec spec) {
        double v = spec.param(key);
        require(v > 0, "--%s must be > 0, got %s", key, v);
      }
    }

    /** {@code >=} the parameter {@code other} (a range that may be a single point). */
    record AtLeast(String other) implements Bound {
      @Override
      public void check(String key, SdeSpec spec) {
        double v = spec.param(key);
        double o = spec.param(other);
        require(v >= o, "--%s must be >= --%s, got %s < %s", key, other, v, o);
      }
    }

    /** {@code >} the parameter {@code other} (a range that must not be a single point). */
    record Above(String other) implements Bound {
      @Override
      public void check(String key, SdeSpec spec) {
        double v = spec.param(key);
        double o = spec.param(other);
        require(v > o, "--%s must be > --%s, got %s <= %s", key, other, v, o);
      }
    }
  }
}
