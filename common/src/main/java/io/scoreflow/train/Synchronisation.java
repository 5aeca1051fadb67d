package io.scoreflow.train;

import com.typesafe.config.Config;
import io.scoreflow.InvalidInputException;
import io.scoreflow.config.ConfigValues;
import java.util.Locale;

/**
 * How data-parallel replicas combine their work ({@code scoreflow.cluster.sync}).
 *
 * <ul>
 *   <li>{@link EveryStep} ({@code every-step}, the default): synchronous data parallelism, the
 *       gradient averaged at every step; replicas hold bit-identical parameters after every step,
 *       and N replicas train what one process with the whole batch trains.
 *   <li>{@link Delayed} ({@code delayed}): bounded staleness 1, a different algorithm. Step t's
 *       gradient is exchanged while step t+1's is computed, and step t+1 applies it, so the
 *       exchange hides behind the next forward and backward pass: {@code θ_{t+1} = θ_t − η
 *       ḡ(θ_{t−1})}. Replicas stay bit-identical after every step. Before a checkpoint the pipeline
 *       is drained (that step applies its own gradient too) and after a start the first step
 *       applies none, so checkpoints hold nothing in flight and resuming is exact.
 *   <li>{@link Local} ({@code local:H}): local SGD / DiLoCo, a different algorithm. Each replica
 *       takes H optimizer steps on its own shard alone, then the replicas average their parameter
 *       change since the last synchronisation (the "outer gradient", one exchange of the
 *       parameters' size: H times less traffic) and apply it with an outer optimizer from the
 *       synchronised parameters. Adam's moments and the EMA stay local between synchronisations and
 *       are averaged with the parameters at every checkpoint step (which is always a
 *       synchronisation), so every replica resumes from the same state and a resumed run continues
 *       bit for bit.
 * </ul>
 */
public sealed interface Synchronisation {

  String KEY = "scoreflow.cluster.sync";
  String OUTER = "scoreflow.cluster.outer";

  /** Whether the replicas synchronise parameters after {@code step} (0-based) by the schedule. */
  boolean synchronisesAfter(long step);

  /** The gradient averaged at every step. */
  record EveryStep() implements Synchronisation {
    @Override
    public boolean synchronisesAfter(long step) {
      return true;
    }

    @Override
    public String toString() {
      return "every-step";
    }
  }

  /** The gradient of step t applied at step t+1, its exchange overlapping step t+1's compute. */
  record Delayed() implements Synchronisation {
    @Override
    public boolean synchronisesAfter(long step) {
      return true;
    }

    @Override
    public String toString() {
      return "delayed";
    }
  }

  /**
   * H local steps, then an averaged parameter delta applied by {@code outer}.
   *
   * @param steps H, the local steps between synchronisations (at least 1)
   */
  record Local(int steps, Outer outer) implements Synchronisation {
    public Local {
      if (steps < 1) {
        throw new InvalidInputException(KEY + " = local:H needs H >= 1, got " + steps);
      }
    }

    @Override
    public boolean synchronisesAfter(long step) {
      return (step + 1) % steps == 0;
    }

    @Override
    public String toString() {
      return "local:" + steps + " (" + outer + ")";
    }
  }

  /**
   * The outer optimizer of local SGD, applied to the averaged delta Δ (anchor − local parameters):
   * {@code average} sets the parameters to the replicas' mean ({@code θ ← θ₀ − Δ}); {@code
   * nesterov} is DiLoCo's SGD with Nesterov momentum as torch.optim.SGD computes it ({@code b ← μ b
   * + Δ; θ ← θ₀ − lr (Δ + μ b)}).
   */
  record Outer(Kind kind, double lr, double momentum) {
    public enum Kind {
      AVERAGE,
      NESTEROV
    }

    public Outer {
      if (kind == Kind.NESTEROV && !(lr > 0 && momentum >= 0 && momentum < 1)) {
        throw new InvalidInputException(
            OUTER
                + ": nesterov needs lr > 0 and momentum in [0, 1), got lr "
                + lr
                + ", momentum "
                + momentum);
      }
    }

    public static final Outer AVERAGE = new Outer(Kind.AVERAGE, 1, 0);

    @Override
    public String toString() {
      return kind == Kind.AVERAGE
          ? "average"
          : String.format(Locale.ROOT, "nesterov lr %s momentum %s", lr, momentum);
    }
  }

  Synchronisation EVERY_STEP = new EveryStep();
  Synchronisation DELAYED = new Delayed();

  /**
   * The synchronisation {@code config} names (every step where it names none).
   *
   * @throws InvalidInputException naming the key and what it accepts
   */
  static Synchronisation of(Config config) {
    if (!config.hasPath(KEY)) {
      return EVERY_STEP;
    }
    String name = ConfigValues.string(config, KEY).strip();
    if (name.equals("every-step")) {
      return EVERY_STEP;
    }
    if (name.equals("delayed")) {
      return DELAYED;
    }
    if (!name.startsWith("local:")) {
      throw new InvalidInputException(
          KEY + " must be every-step, delayed or local:H (H local steps), got '" + name + "'");
    }
    int steps;
    try {
      steps = Integer.parseInt(name.substring("local:".length()));
    } catch (NumberFormatException e) {
      throw new InvalidInputException(
          KEY + " = local:H needs a whole number H, got '" + name + "'");
    }
    Outer outer = Outer.AVERAGE;
    if (config.hasPath(OUTER + ".optimizer")) {
      String kind = ConfigValues.string(config, OUTER + ".optimizer");
      outer =
          switch (kind) {
            case "average" -> Outer.AVERAGE;
            case "nesterov" ->
                new Outer(
                    Outer.Kind.NESTEROV,
                    ConfigValues.number(config, OUTER + ".lr"),
                    ConfigValues.number(config, OUTER + ".momentum"));
            default ->
                throw new InvalidInputException(
                    OUTER + ".optimizer must be average or nesterov, got '" + kind + "'");
          };
    }
    return new Local(steps, outer);
  }
}
