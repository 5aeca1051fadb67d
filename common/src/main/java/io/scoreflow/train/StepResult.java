package io.scoreflow.train;

/**
 * What one training step did, for progress lines and metrics.
 *
 * @param step the step just completed (0-based)
 * @param loss this replica's mean DSM loss over its shard
 * @param gradNorm the global gradient norm before clipping
 * @param learningRate the learning rate applied
 * @param samples samples this replica processed
 * @param checksum the parameters after the step, or {@code null} when the trainer was not asked for
 *     checksums ({@link Trainer.Builder#checksums(boolean)})
 */
public record StepResult(
    long step,
    double loss,
    double gradNorm,
    double learningRate,
    int samples,
    long computeNanos,
    long exchangeNanos,
    long optimizerNanos,
    ParameterChecksum checksum) {

  public long totalNanos() {
    return computeNanos + exchangeNanos + optimizerNanos;
  }
}
