package io.scoreflow.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import io.scoreflow.train.StepResult;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A training replica's metrics, labelled by run and rank. Per-phase step times are counters of
 * seconds (the dashboard divides their rate by the rate of steps), so no step's time is lost
 * between scrapes; the last step's values are gauges.
 */
public final class TrainingMetrics {

  private final String run;
  private final String rank;
  private final Gauge loss;
  private final Gauge step;
  private final Gauge gradNorm;
  private final Gauge learningRate;
  private final Gauge imagesPerSecond;
  private final Counter steps;
  private final Counter samples;
  private final Counter phaseSeconds;
  private final Gauge checkpointStep;
  private final Gauge checkpointTime;
  private final Counter exchangeBytes;
  private final Counter exchangeSeconds;
  private final AtomicLong lastCheckpointMillis = new AtomicLong(-1);
  private final LongSupplier clock;

  /**
   * Registers the metrics of replica {@code rank} of run {@code run} into {@code registry}.
   *
   * @param clock wall-clock milliseconds (injected so that the checkpoint age is testable)
   */
  public TrainingMetrics(PrometheusRegistry registry, String run, int rank, LongSupplier clock) {
    this.run = run;
    this.rank = Integer.toString(rank);
    String[] labels = {"run", "rank"};
    loss =
        Gauge.builder()
            .name("scoreflow_train_loss")
            .help("DSM loss of the last step, mean over this replica's shard")
            .labelNames(labels)
            .register(registry);
    step =
        Gauge.builder()
            .name("scoreflow_train_step")
            .help("Steps completed")
            .labelNames(labels)
            .register(registry);
    gradNorm =
        Gauge.builder()
            .name("scoreflow_train_grad_norm")
            .help("Global gradient norm of the last step, before clipping")
            .labelNames(labels)
            .register(registry);
    learningRate =
        Gauge.builder()
            .name("scoreflow_train_learning_rate")
            .help("Learning rate of the last step (after warm-up)")
            .labelNames(labels)
            .register(registry);
    imagesPerSecond =
        Gauge.builder()
            .name("scoreflow_train_images_per_second")
            .help("Samples per second of the last step on this replica")
            .labelNames(labels)
            .register(registry);
    steps =
        Counter.builder()
            .name("scoreflow_train_steps_total")
            .help("Training steps completed by this replica")
            .labelNames(labels)
            .register(registry);
    samples =
        Counter.builder()
            .name("scoreflow_train_samples_total")
            .help("Training samples processed by this replica")
            .labelNames(labels)
            .register(registry);
    phaseSeconds =
        Counter.builder()
            .name("scoreflow_train_phase_seconds_total")
            .help("Time spent in each phase of the step: compute, exchange, optimizer")
            .unit(Unit.SECONDS)
            .labelNames("run", "rank", "phase")
            .register(registry);
    exchangeBytes =
        Counter.builder()
            .name("scoreflow_allreduce_bytes_total")
            .help(
                "Bytes of the flat fp32 gradient this replica all-reduced (per step, not on the wire)")
            .unit(Unit.BYTES)
            .labelNames(labels)
            .register(registry);
    exchangeSeconds =
        Counter.builder()
            .name("scoreflow_allreduce_seconds_total")
            .help("Time this replica spent in all-reduces")
            .unit(Unit.SECONDS)
            .labelNames(labels)
            .register(registry);
    checkpointStep =
        Gauge.builder()
            .name("scoreflow_checkpoint_step")
            .help("Step of the newest complete checkpoint")
            .labelNames(labels)
            .register(registry);
    checkpointTime =
        Gauge.builder()
            .name("scoreflow_checkpoint_timestamp_seconds")
            .help("Wall-clock time at which the newest checkpoint completed")
            .unit(Unit.SECONDS)
            .labelNames(labels)
            .register(registry);
    GaugeWithCallback.builder()
        .name("scoreflow_checkpoint_age_seconds")
        .help("Seconds since the newest checkpoint completed")
        .unit(Unit.SECONDS)
        .labelNames(labels)
        .callback(
            cb -> {
              long at = lastCheckpointMillis.get();
              if (at >= 0) {
                cb.call((clock.getAsLong() - at) / 1000.0, run, this.rank);
              }
            })
        .register(registry);
    for (String phase : new String[] {"compute", "exchange", "optimizer"}) {
      phaseSeconds.initLabelValues(run, this.rank, phase);
    }
    steps.initLabelValues(run, this.rank);
    samples.initLabelValues(run, this.rank);
    exchangeBytes.initLabelValues(run, this.rank);
    exchangeSeconds.initLabelValues(run, this.rank);
    this.clock = clock;
  }

  /** Records one finished step. */
  public void onStep(StepResult r) {
    loss.labelValues(run, rank).set(r.loss());
    step.labelValues(run, rank).set(r.step() + 1);
    gradNorm.labelValues(run, rank).set(r.gradNorm());
    learningRate.labelValues(run, rank).set(r.learningRate());
    imagesPerSecond.labelValues(run, rank).set(r.samples() / (r.totalNanos() / 1e9));
    steps.labelValues(run, rank).inc();
    samples.labelValues(run, rank).inc(r.samples());
    phaseSeconds.labelValues(run, rank, "compute").inc(r.computeNanos() / 1e9);
    phaseSeconds.labelValues(run, rank, "exchange").inc(r.exchangeNanos() / 1e9);
    phaseSeconds.labelValues(run, rank, "optimizer").inc(r.optimizerNanos() / 1e9);
  }

  /** Records one all-reduce (bytes this replica sent). */
  public void onAllReduce(long bytes, long nanos) {
    exchangeBytes.labelValues(run, rank).inc(bytes);
    exchangeSeconds.labelValues(run, rank).inc(nanos / 1e9);
  }

  /** Records a completed checkpoint. */
  public void onCheckpoint(long checkpointStepValue) {
    long now = clock.getAsLong();
    lastCheckpointMillis.set(now);
    checkpointStep.labelValues(run, rank).set(checkpointStepValue);
    checkpointTime.labelValues(run, rank).set(now / 1000.0);
  }
}
