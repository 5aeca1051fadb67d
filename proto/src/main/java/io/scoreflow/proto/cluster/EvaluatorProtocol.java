package io.scoreflow.proto.cluster;

/**
 * What a sampler answers the evaluator that asked it for samples ({@link
 * SamplerProtocol.SampleCheckpoint}).
 */
public final class EvaluatorProtocol {

  private EvaluatorProtocol() {}

  /** A message from a sampler to the evaluator. */
  public sealed interface Command extends CborSerializable permits SamplesWritten, SamplingFailed {}

  /** A sampler wrote {@code count} samples of checkpoint {@code step} to {@code npz}. */
  public record SamplesWritten(
      String job, long step, String sampler, String npz, int count, double seconds)
      implements Command {
    public SamplesWritten {
      Fields.text(job, "job", Fields.NAME);
      Fields.text(sampler, "sampler", Fields.NAME);
      Fields.text(npz, "npz", Fields.PATH);
      if (count < 0) {
        throw new IllegalArgumentException("count " + count + " is negative");
      }
    }
  }

  /** A sampler could not sample checkpoint {@code step}. */
  public record SamplingFailed(String job, long step, String sampler, String reason)
      implements Command {
    public SamplingFailed {
      Fields.text(job, "job", Fields.NAME);
      Fields.text(sampler, "sampler", Fields.NAME);
      reason = Fields.reason(reason);
    }
  }
}
