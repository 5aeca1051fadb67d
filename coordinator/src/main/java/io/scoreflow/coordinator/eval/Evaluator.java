package io.scoreflow.coordinator.eval;

import io.scoreflow.ckpt.CheckpointReader;
import io.scoreflow.data.Npz;
import io.scoreflow.eval.PooledPixels;
import io.scoreflow.eval.SampleQuality;
import io.scoreflow.metrics.EvaluationMetrics;
import io.scoreflow.proto.cluster.EvaluatorProtocol;
import io.scoreflow.proto.cluster.EvaluatorProtocol.Command;
import io.scoreflow.proto.cluster.EvaluatorProtocol.SamplesWritten;
import io.scoreflow.proto.cluster.EvaluatorProtocol.SamplingFailed;
import io.scoreflow.proto.cluster.SamplerProtocol;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * Evaluates a run's checkpoints as they complete: polls the checkpoint root's {@code LATEST}
 * pointer (the newest complete checkpoint is the truth), asks one sampler at a time (round robin
 * over those the receptionist lists) to sample the newest checkpoint not yet evaluated, measures
 * the samples off the actor's thread ({@link SampleQuality}: W2 for Gaussian data, the Fréchet
 * distance in the fallback feature space for images) and exports the value.
 *
 * <p>Checkpoints that complete while a sample is in flight are not queued: only the newest is
 * evaluated next, so a slow sampler never builds a backlog. A sampler that does not answer within
 * {@link Settings#sampleTimeout()} gives its step up.
 */
public final class Evaluator {

  private static final String POLL = "poll";
  private static final String SAMPLE_DEADLINE = "sample-deadline";

  /**
   * Where the evaluator finds what it needs.
   *
   * @param job the job name (fences every message)
   * @param checkpoints the run's checkpoint root on this node
   * @param sampleStore where samplers write samples (on the run's shared file system)
   * @param serviceHost the checkpoint service's host, as samplers reach it
   * @param servicePort the checkpoint service's port
   * @param every evaluate a checkpoint only this many steps after the last evaluated one
   * @param poll how often to look for a new checkpoint
   * @param sampleTimeout how long a sampler may take
   */
  public record Settings(
      String job,
      Path checkpoints,
      Path sampleStore,
      String serviceHost,
      int servicePort,
      long every,
      Duration poll,
      Duration sampleTimeout) {}

  /**
   * The evaluator's own signals, beside what samplers answer ({@link EvaluatorProtocol}): its poll
   * timer, the receptionist's listings, measurements done off its thread, deadlines. They never
   * leave this JVM; the behaviour is typed {@code Object} inside and narrowed to {@link
   * EvaluatorProtocol.Command} for the samplers.
   */
  private sealed interface Signal permits Poll, SamplersChanged, Measured, SampleDeadline {}

  private enum Poll implements Signal {
    INSTANCE
  }

  private record SamplersChanged(Receptionist.Listing listing) implements Signal {}

  private record Measured(long step, SampleQuality.Measurement measurement, Throwable failure)
      implements Signal {}

  private record SampleDeadline(long step) implements Signal {}

  private final ActorContext<Object> ctx;
  private final TimerScheduler<Object> timers;
  private final Settings settings;
  private final SampleQuality quality;
  private final EvaluationMetrics metrics;
  private final CheckpointReader reader;
  private final ExecutorService measuring;
  private List<ActorRef<SamplerProtocol.Command>> samplers = List.of();
  private int nextSampler;
  private long newest = -1;
  private long inFlight = -1;
  private long lastEvaluated = -1;
  private long lastTried = -1;

  private Evaluator(
      ActorContext<Object> ctx,
      TimerScheduler<Object> timers,
      Settings settings,
      SampleQuality quality,
      EvaluationMetrics metrics) {
    this.ctx = ctx;
    this.timers = timers;
    this.settings = settings;
    this.quality = quality;
    this.metrics = metrics;
    this.reader = CheckpointReader.of(settings.checkpoints());
    this.measuring =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "evaluator-" + settings.job());
              t.setDaemon(true);
              return t;
            });
  }

  /** An evaluator measuring with {@code quality} and exporting to {@code metrics}. */
  public static Behavior<Command> create(
      Settings settings, SampleQuality quality, EvaluationMetrics metrics) {
    Behavior<Object> behavior =
        Behaviors.setup(
            ctx ->
                Behaviors.withTimers(
                    timers -> new Evaluator(ctx, timers, settings, quality, metrics).start()));
    return behavior.narrow();
  }

  private Behavior<Object> start() {
    ctx.getSystem()
        .receptionist()
        .tell(
            Receptionist.subscribe(
                SamplerProtocol.SERVICE_KEY,
                ctx.messageAdapter(Receptionist.Listing.class, SamplersChanged::new)));
    timers.startTimerWithFixedDelay(POLL, Poll.INSTANCE, settings.poll());
    ctx.getLog()
        .info(
            "job {}: evaluator measures {} of each new checkpoint (at least {} steps apart)",
            settings.job(),
            describe(quality.kind()),
            settings.every());
    return Behaviors.receive(Object.class)
        .onMessage(Poll.class, m -> onPoll())
        .onMessage(SamplersChanged.class, this::onSamplersChanged)
        .onMessage(SamplesWritten.class, this::onSamplesWritten)
        .onMessage(SamplingFailed.class, this::onSamplingFailed)
        .onMessage(SampleDeadline.class, this::onSampleDeadline)
        .onMessage(Measured.class, this::onMeasured)
        .onSignal(PostStop.class, s -> onStop())
        .build();
  }

  private Behavior<Object> onPoll() {
    OptionalLong latest;
    try {
      latest = reader.latest();
    } catch (RuntimeException e) {
      ctx.getLog()
          .warn("job {}: cannot read the checkpoint pointer: {}", settings.job(), e.getMessage());
      return Behaviors.same();
    }
    if (latest.isPresent() && latest.getAsLong() > newest) {
      newest = latest.getAsLong();
    }
    return dispatch();
  }

  private Behavior<Object> onSamplersChanged(SamplersChanged m) {
    samplers = new ArrayList<>(m.listing().getServiceInstances(SamplerProtocol.SERVICE_KEY));
    samplers.sort((a, b) -> a.path().toString().compareTo(b.path().toString()));
    ctx.getLog().info("job {}: {} sampler(s) available", settings.job(), samplers.size());
    return dispatch();
  }

  private Behavior<Object> dispatch() {
    boolean due =
        newest > lastTried && (lastEvaluated < 0 || newest - lastEvaluated >= settings.every());
    if (inFlight >= 0 || samplers.isEmpty() || !due) {
      return Behaviors.same();
    }
    ActorRef<SamplerProtocol.Command> sampler = samplers.get(nextSampler++ % samplers.size());
    inFlight = newest;
    lastTried = newest;
    sampler.tell(
        new SamplerProtocol.SampleCheckpoint(
            settings.job(),
            inFlight,
            settings.serviceHost(),
            settings.servicePort(),
            settings.sampleStore().toString(),
            ctx.getSelf().<Command>narrow()));
    timers.startSingleTimer(
        SAMPLE_DEADLINE, new SampleDeadline(inFlight), settings.sampleTimeout());
    ctx.getLog()
        .info(
            "job {} step {}: asked sampler {} for samples",
            settings.job(),
            inFlight,
            sampler.path());
    return Behaviors.same();
  }

  private Behavior<Object> onSamplesWritten(SamplesWritten m) {
    if (!m.job().equals(settings.job()) || m.step() != inFlight) {
      ctx.getLog()
          .warn(
              "job {}: ignored samples of job {} step {} (late or foreign)",
              settings.job(),
              m.job(),
              m.step());
      return Behaviors.same();
    }
    Path store = settings.sampleStore().toAbsolutePath().normalize();
    Path npz;
    try {
      npz = store.resolve(m.npz()).normalize();
    } catch (java.nio.file.InvalidPathException e) {
      npz = null;
    }
    // The path comes from another node: read only inside the store it was told to write to.
    if (npz == null || !npz.startsWith(store)) {
      ctx.getLog()
          .warn(
              "job {} step {}: ignored samples of sampler {}: {} is outside the sample store {}",
              settings.job(),
              m.step(),
              m.sampler(),
              m.npz(),
              store);
      return Behaviors.same();
    }
    timers.cancel(SAMPLE_DEADLINE);
    metrics.onSampled(m.count(), m.seconds());
    long step = m.step();
    Path measured = npz;
    ctx.pipeToSelf(
        CompletableFuture.supplyAsync(() -> measure(measured), measuring),
        (measurement, failure) -> new Measured(step, measurement, failure));
    return Behaviors.same();
  }

  private SampleQuality.Measurement measure(Path npz) {
    Npz.FloatArray samples = Npz.read(npz).get("samples");
    if (samples == null) {
      throw new IllegalArgumentException(npz + " holds no 'samples' array");
    }
    return quality.measure(samples.data(), samples.shape()[0]);
  }

  private Behavior<Object> onSamplingFailed(SamplingFailed m) {
    if (m.job().equals(settings.job()) && m.step() == inFlight) {
      timers.cancel(SAMPLE_DEADLINE);
      ctx.getLog()
          .warn(
              "job {} step {}: sampler {} failed: {}",
              settings.job(),
              m.step(),
              m.sampler(),
              m.reason());
      inFlight = -1;
    }
    return dispatch();
  }

  private Behavior<Object> onSampleDeadline(SampleDeadline m) {
    if (m.step() == inFlight) {
      ctx.getLog()
          .warn(
              "job {} step {}: no samples within {}; giving the step up",
              settings.job(),
              m.step(),
              settings.sampleTimeout());
      inFlight = -1;
    }
    return dispatch();
  }

  private Behavior<Object> onMeasured(Measured m) {
    inFlight = -1;
    if (m.failure() != null) {
      ctx.getLog()
          .warn(
              "job {} step {}: measuring the samples failed: {}",
              settings.job(),
              m.step(),
              m.failure().toString());
      return dispatch();
    }
    SampleQuality.Measurement r = m.measurement();
    metrics.onMeasured(m.step(), r.kind(), r.value(), r.inceptionScore(), r.kid());
    lastEvaluated = m.step();
    ctx.getLog()
        .info(
            "job {} step {}: {} = {}{} ({} samples)",
            settings.job(),
            m.step(),
            describe(r.kind()),
            r.value(),
            Double.isNaN(r.kid()) ? "" : ", kid = " + r.kid(),
            r.samples());
    return dispatch();
  }

  private Behavior<Object> onStop() {
    measuring.shutdownNow();
    return Behaviors.same();
  }

  private static String describe(SampleQuality.Kind kind) {
    return switch (kind) {
      case W2 -> "w2";
      case FID -> "fid";
      case FALLBACK_FD -> "fd_fallback (" + PooledPixels.NAME + ", not FID)";
    };
  }
}
