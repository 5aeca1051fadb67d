package io.scoreflow.worker.sample;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.scoreflow.ckpt.CompletedCheckpoint;
import io.scoreflow.config.Devices;
import io.scoreflow.proto.cluster.EvaluatorProtocol;
import io.scoreflow.proto.cluster.SamplerProtocol;
import io.scoreflow.run.RunDirectory;
import io.scoreflow.sample.SampleJob;
import io.scoreflow.security.GrpcTls;
import io.scoreflow.security.NodeIdentity;
import io.scoreflow.security.TransportSecurity;
import io.scoreflow.worker.ckpt.CheckpointFetcher;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * A worker node's sampler: asked by the evaluator to sample a checkpoint, it pulls the checkpoint
 * through the checkpoint service into a local cache ({@code CACHE/checkpoints/step-N}, verified
 * file by file), samples from it with {@link SampleJob} as the checkpoint's own config says ({@code
 * scoreflow.eval}: sampler, steps K, samples, weights — EMA by default) on this worker's device,
 * writes the PNG grid and {@code .npz} to the sample store and answers the evaluator.
 *
 * <p>The work blocks (network, libtorch), so the actor runs on Pekko's blocking dispatcher ({@link
 * #DISPATCHER}), never on the default one; requests that arrive meanwhile wait in its mailbox. The
 * evaluator sends one request at a time.
 */
public final class SamplerActor {

  /** Spawn with this: the sampler's handler blocks for as long as sampling takes. */
  public static final DispatcherSelector DISPATCHER = DispatcherSelector.blocking();

  private final ActorContext<SamplerProtocol.Command> ctx;
  private final String samplerId;
  private final Path cache;
  private final String device;
  private final Duration fetchDeadline;
  private final TransportSecurity security;

  private SamplerActor(
      ActorContext<SamplerProtocol.Command> ctx,
      String samplerId,
      Path cache,
      String device,
      Duration fetchDeadline,
      TransportSecurity security) {
    this.security = security;
    this.ctx = ctx;
    this.samplerId = samplerId;
    this.cache = cache;
    this.device = device;
    this.fetchDeadline = fetchDeadline;
  }

  /**
   * A sampler named {@code samplerId} (its worker's id) that caches checkpoints under {@code
   * cache}, samples on {@code device} and gives a checkpoint fetch {@code fetchDeadline}; it
   * fetches from the coordinator over {@code security}.
   */
  public static Behavior<SamplerProtocol.Command> create(
      String samplerId,
      Path cache,
      String device,
      Duration fetchDeadline,
      TransportSecurity security) {
    return Behaviors.setup(
        ctx -> {
          ctx.getSystem()
              .receptionist()
              .tell(Receptionist.register(SamplerProtocol.SERVICE_KEY, ctx.getSelf()));
          return new SamplerActor(ctx, samplerId, cache, device, fetchDeadline, security)
              .behavior();
        });
  }

  private Behavior<SamplerProtocol.Command> behavior() {
    return Behaviors.receive(SamplerProtocol.Command.class)
        .onMessage(SamplerProtocol.SampleCheckpoint.class, this::onSample)
        .build();
  }

  private Behavior<SamplerProtocol.Command> onSample(SamplerProtocol.SampleCheckpoint m) {
    long start = System.nanoTime();
    try {
      SampleJob.Result r = sample(m);
      double seconds = (System.nanoTime() - start) / 1e9;
      ctx.getLog()
          .info(
              "job {} step {}: sampler {} wrote {} samples to {} in {} s",
              m.job(),
              m.step(),
              samplerId,
              r.count(),
              r.npz(),
              String.format(Locale.ROOT, "%.1f", seconds));
      m.replyTo()
          .tell(
              new EvaluatorProtocol.SamplesWritten(
                  m.job(), m.step(), samplerId, r.npz().toString(), r.count(), seconds));
    } catch (RuntimeException | IOException e) {
      String reason = e.getMessage() == null ? e.toString() : e.getMessage().replace('\n', ' ');
      ctx.getLog()
          .warn("job {} step {}: sampler {} failed: {}", m.job(), m.step(), samplerId, reason);
      m.replyTo().tell(new EvaluatorProtocol.SamplingFailed(m.job(), m.step(), samplerId, reason));
    }
    return Behaviors.same();
  }

  private SampleJob.Result sample(SamplerProtocol.SampleCheckpoint m) throws IOException {
    Path run = cache.resolve(m.job());
    Path checkpoints = run.resolve(RunDirectory.CHECKPOINTS);
    ManagedChannel channel =
        NettyChannelBuilder.forAddress(
                m.checkpointHost(),
                m.checkpointPort(),
                GrpcTls.channel(security, NodeIdentity.coordinator()))
            .maxInboundMessageSize(8 << 20)
            .build();
    CompletedCheckpoint checkpoint;
    try {
      checkpoint =
          new CheckpointFetcher(channel, fetchDeadline).fetch(m.job(), m.step(), checkpoints);
    } finally {
      channel.shutdownNow();
      try {
        channel.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    dropOlder(checkpoints, checkpoint.directory());
    // SampleJob reads the run's config from RUN/config.conf: the checkpoint's own, which its
    // manifest carries (and the fetch verified).
    Files.writeString(
        run.resolve(RunDirectory.CONFIG), checkpoint.manifest().config(), StandardCharsets.UTF_8);
    Config config =
        ConfigFactory.parseString(checkpoint.manifest().config())
            .withFallback(ConfigFactory.defaultReference())
            .resolve();
    Config eval = config.getConfig("scoreflow.eval");
    String sampler = eval.getString("sampler");
    int steps = eval.getInt("steps");
    int count = eval.getInt("samples");
    Path prefix =
        Path.of(m.sampleStore())
            .resolve(String.format(Locale.ROOT, "step-%09d-%s-%d", m.step(), sampler, steps));
    return SampleJob.run(
        new SampleJob.Request(
            run,
            m.step(),
            eval.getString("weights"),
            sampler,
            steps,
            count,
            Math.min(count, 500),
            config.getLong("scoreflow.train.seed"),
            prefix,
            Devices.parse(device)),
        k -> {});
  }

  /** Keeps only the checkpoint just fetched: the cache is for the newest one. */
  private static void dropOlder(Path checkpoints, Path keep) throws IOException {
    try (Stream<Path> children = Files.list(checkpoints)) {
      for (Path p : children.filter(p -> !p.equals(keep)).toList()) {
        try (Stream<Path> tree = Files.walk(p)) {
          tree.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
      }
    }
  }
}
