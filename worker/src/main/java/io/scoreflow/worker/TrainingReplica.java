package io.scoreflow.worker;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.scoreflow.config.Devices;
import io.scoreflow.metrics.TrainingMetrics;
import io.scoreflow.proto.cluster.CoordinatorProtocol;
import io.scoreflow.proto.cluster.RingMember;
import io.scoreflow.proto.cluster.WorkerProtocol;
import io.scoreflow.run.ElasticBatch;
import io.scoreflow.train.StepResult;
import io.scoreflow.train.TrainJob;
import io.scoreflow.worker.exchange.ExchangeKind;
import io.scoreflow.worker.exchange.ExchangeReducer;
import io.scoreflow.worker.exchange.ExchangeServer;
import io.scoreflow.worker.exchange.PeerAddress;
import io.scoreflow.worker.exchange.Wire;
import io.scoreflow.worker.exchange.star.StarExchange;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The real replica: on its own thread, opens the generation's gradient exchange, then the run as
 * replica {@code rank} of the ring ({@link TrainJob.Builder#replica}), trains until the job's last
 * step and reports every step with its parameter checksum.
 */
public final class TrainingReplica implements Replica {

  private static final Logger LOG = LoggerFactory.getLogger(TrainingReplica.class);

  private final WorkerProtocol.StartJob job;
  private final ExchangeServer reducers;
  private final ExchangeKind exchange;
  private final String device;
  private final Events events;
  private final WorkerMetrics metrics;
  private final Thread thread;
  private volatile ExchangeReducer reducer;
  private volatile boolean stopRequested;
  private long stepsDone;

  private TrainingReplica(
      WorkerProtocol.StartJob job,
      ExchangeServer reducers,
      ExchangeKind exchange,
      String device,
      Events events,
      WorkerMetrics metrics) {
    this.job = job;
    this.metrics = metrics;
    this.reducers = reducers;
    this.exchange = exchange;
    this.device = device;
    this.events = events;
    this.stepsDone = job.startStep();
    this.thread = new Thread(this::run, "replica-" + job.rank());
  }

  /**
   * Starts replicas that exchange gradients through {@code reducers} (an {@code exchange}) and
   * train on {@code device}.
   */
  public static Launcher launcher(ExchangeServer reducers, ExchangeKind exchange, String device) {
    return launcher(reducers, exchange, device, WorkerMetrics.unserved());
  }

  /**
   * As {@link #launcher(ExchangeServer, ExchangeKind, String)}, exporting each replica's metrics.
   */
  public static Launcher launcher(
      ExchangeServer reducers, ExchangeKind exchange, String device, WorkerMetrics metrics) {
    return (job, events) -> {
      TrainingReplica replica =
          new TrainingReplica(job, reducers, exchange, device, events, metrics);
      replica.thread.start();
      return replica;
    };
  }

  @Override
  public void stop() {
    stopRequested = true;
    thread.interrupt();
    ExchangeReducer r = reducer;
    if (r != null) {
      r.close();
    }
  }

  @Override
  public boolean awaitEnd(java.time.Duration timeout) throws InterruptedException {
    thread.join(Math.max(1, timeout.toMillis()));
    return !thread.isAlive();
  }

  private void run() {
    String failure = null;
    boolean inExchange = false;
    try {
      Config config =
          ConfigFactory.parseString(job.config())
              .withFallback(ConfigFactory.defaultReference())
              .resolve();
      // A worker of another exchange could not talk to its peers: say so before trying.
      ExchangeKind wanted = ExchangeKind.of(config);
      if (wanted != exchange) {
        throw new IllegalStateException(
            "job "
                + job.job()
                + " exchanges gradients by '"
                + wanted.configName()
                + "' but this worker runs '"
                + exchange.configName()
                + "' (start it with --exchange "
                + wanted.configName()
                + ")");
      }
      Wire wire = Wire.of(config);
      if (wire.format() != Wire.Format.FP32 && exchange != ExchangeKind.RING) {
        throw new IllegalStateException("job " + job.job() + ": " + StarExchange.STAR_SENDS_FP32);
      }
      List<PeerAddress> peers = job.ring().stream().map(TrainingReplica::peer).toList();
      try (ExchangeReducer opened =
          reducers.open(job.job(), job.generation(), job.rank(), peers, wire)) {
        reducer = opened;
        if (stopRequested) {
          throw new io.scoreflow.train.TrainingStoppedException("stopped before the first step");
        }
        try (TrainJob train =
            TrainJob.builder()
                .config(config)
                .directory(Path.of(job.runDirectory()))
                .device(Devices.parse(device))
                .startAt(job.startStep())
                .replica(job.rank(), job.ring().size(), opened)
                // The coordinator chose this ring's batch (ElasticBatch.globalBatch); the config
                // says whether a checkpoint of another batch may be continued.
                .ringBatch(job.globalBatch())
                .elasticBatch(ElasticBatch.of(config))
                .generation(job.generation())
                .open()) {
          train.run(
              job.untilStep(),
              new Reporting(
                  metrics.replica(job.job(), job.rank()), 4 * train.trainer().parameters().size()));
        }
      }
    } catch (Throwable t) {
      failure = oneLine(t);
      inExchange = causedByExchange(t);
      if (!stopRequested) {
        LOG.error(
            "job {} generation {} step {}: rank {} failed",
            job.job(),
            job.generation(),
            stepsDone,
            job.rank(),
            t);
      }
    } finally {
      events.onEnd(stepsDone, failure, inExchange);
    }
  }

  private static boolean causedByExchange(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof io.scoreflow.worker.exchange.ExchangeException) {
        return true;
      }
    }
    return false;
  }

  private static String oneLine(Throwable t) {
    String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    Throwable cause = t.getCause();
    if (cause != null && cause.getMessage() != null && !message.contains(cause.getMessage())) {
      message += " (" + cause.getMessage() + ")";
    }
    return message.replace('\n', ' ');
  }

  /** Turns every step into a report for the coordinator. */
  private final class Reporting implements TrainJob.Listener {
    private final TrainingMetrics metrics;
    private final long gradientBytes;

    Reporting(TrainingMetrics metrics, long gradientBytes) {
      this.metrics = metrics;
      this.gradientBytes = gradientBytes;
    }

    @Override
    public void onCheckpoint(io.scoreflow.ckpt.CompletedCheckpoint checkpoint) {
      metrics.onCheckpoint(checkpoint.step());
    }

    @Override
    public void onStep(StepResult r) {
      stepsDone = r.step() + 1;
      metrics.onStep(r);
      metrics.onAllReduce(gradientBytes, r.exchangeNanos());
      events.onStep(
          new CoordinatorProtocol.StepReport(
              job.job(),
              job.generation(),
              job.rank(),
              r.step(),
              r.loss(),
              r.samples(),
              r.computeNanos(),
              r.exchangeNanos(),
              r.optimizerNanos(),
              // Local SGD: replicas differ between synchronisations, which have no checksum.
              r.checksum() == null ? "" : r.checksum().hex(),
              r.checksum() == null ? 0 : r.checksum().sum()));
    }
  }

  /** Where a ring member's exchange server listens. */
  static PeerAddress peer(RingMember m) {
    return new PeerAddress(m.rank(), m.workerId(), m.host(), m.exchangePort());
  }
}
