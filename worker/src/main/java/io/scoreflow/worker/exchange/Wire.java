package io.scoreflow.worker.exchange;

import com.typesafe.config.Config;
import io.scoreflow.InvalidInputException;
import io.scoreflow.config.ConfigValues;
import java.util.Locale;
import java.util.Objects;

/**
 * How a job's gradients travel ({@code scoreflow.cluster.wire} and {@code
 * scoreflow.cluster.error-feedback}). Every rank of a job uses the job's wire, so it is part of the
 * job's config, not of a worker's flags.
 *
 * <p>{@link Format#BF16} rounds what goes on the wire to bfloat16 (half the bytes); every addition
 * stays float32 and every rank ends with the same values, so replicas stay bit-identical. With
 * {@code errorFeedback} each rank keeps what each of its roundings dropped (its own values and the
 * partial sums it forwards, and the final rounding of the segment it owns) and adds it to its next
 * step's gradient, so the averaged gradients of many steps add up to the sum of the exact averages
 * instead of drifting by one rounding error per step. The residual is state outside the checkpoint,
 * so it is dropped at every checkpoint step ({@link
 * io.scoreflow.train.GradientReducer#checkpointed}): a run resumed from a checkpoint continues bit
 * for bit as the uninterrupted one.
 *
 * @param format what a gradient element is sent as
 * @param errorFeedback whether each rank carries its bf16 rounding residual to the next step (no
 *     effect with {@link Format#FP32}, which loses nothing)
 */
public record Wire(Format format, boolean errorFeedback) {

  /** What a gradient element is sent as. */
  public enum Format {
    /** float32: exact. */
    FP32,
    /** bfloat16, rounded to nearest even from float32: half the bytes, 8 significant bits. */
    BF16;

    /** The name in configs ({@code fp32}, {@code bf16}). */
    public String configName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public static final String KEY = "scoreflow.cluster.wire";
  public static final String ERROR_FEEDBACK_KEY = "scoreflow.cluster.error-feedback";

  /** float32 on the wire: what a job without these keys runs. */
  public static final Wire FP32 = new Wire(Format.FP32, false);

  public Wire {
    Objects.requireNonNull(format, "format");
    errorFeedback = errorFeedback && format == Format.BF16;
  }

  /**
   * The wire {@code config} names (fp32 where it names none).
   *
   * @throws InvalidInputException naming the key and the choices
   */
  public static Wire of(Config config) {
    Format format = Format.FP32;
    if (config.hasPath(KEY)) {
      String name = config.getString(KEY);
      format =
          switch (name) {
            case "fp32" -> Format.FP32;
            case "bf16" -> Format.BF16;
            default ->
                throw new InvalidInputException(KEY + " must be fp32 or bf16, got '" + name + "'");
          };
    }
    boolean feedback =
        config.hasPath(ERROR_FEEDBACK_KEY) && ConfigValues.bool(config, ERROR_FEEDBACK_KEY);
    return new Wire(format, feedback);
  }

  /** "bf16 with error feedback", "fp32". */
  @Override
  public String toString() {
    return format.configName() + (errorFeedback ? " with error feedback" : "");
  }
}
