package io.scoreflow.worker;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.scoreflow.InvalidInputException;
import io.scoreflow.proto.cluster.ClusterNodes;
import io.scoreflow.proto.cluster.CoordinatorProtocol;
import io.scoreflow.run.HostPort;
import io.scoreflow.security.ArteryTls;
import io.scoreflow.security.NodeIdentity;
import io.scoreflow.security.NodeProof;
import io.scoreflow.security.TransportSecurity;
import io.scoreflow.worker.exchange.ExchangeKind;
import io.scoreflow.worker.exchange.ExchangeServer;
import io.scoreflow.worker.sample.SamplerActor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker process from start to exit: starts the exchange server, joins the cluster at the
 * coordinator's address, runs a {@link WorkerNode} until it ends, and leaves.
 */
public final class WorkerProcess {

  /**
   * How to start a worker.
   *
   * @param join the coordinator's {@code HOST:PORT}
   * @param workerId the worker's id (orders the ring)
   * @param host the host this worker listens on (cluster and exchange) and advertises
   * @param port the cluster port ({@code 0}: any free port)
   * @param exchangePort the exchange server's port ({@code 0}: any free port)
   * @param device {@code cpu}, {@code gpu} or {@code auto}
   * @param exchange the gradient exchange (every worker of a job must run the job's)
   * @param security how every channel of the worker is protected (its certificate names {@code
   *     workerId})
   */
  public record Options(
      HostPort join,
      String workerId,
      String host,
      int port,
      int exchangePort,
      String device,
      ExchangeKind exchange,
      TransportSecurity security) {
    public Options {
      Objects.requireNonNull(security, "security");
      security
          .material()
          .ifPresent(
              m -> {
                if (!m.identity().equals(NodeIdentity.worker(workerId))) {
                  throw new InvalidInputException(
                      "worker "
                          + workerId
                          + " cannot run as "
                          + m.identity()
                          + ": its certificate must name worker "
                          + workerId);
                }
              });
      Objects.requireNonNull(join, "join");
      Objects.requireNonNull(workerId, "workerId");
      Objects.requireNonNull(host, "host");
      Objects.requireNonNull(device, "device");
      Objects.requireNonNull(exchange, "exchange");
    }
  }

  private static final Logger LOG = LoggerFactory.getLogger(WorkerProcess.class);

  private WorkerProcess() {}

  /** Runs the worker until it ends; returns how. */
  public static WorkerExit run(Options o) throws IOException {
    return run(o, WorkerMetrics.unserved());
  }

  /**
   * Runs the worker until it ends, exporting its replicas' metrics to {@code metrics}; returns how.
   * Besides the worker node, the system runs a sampler actor ({@link SamplerActor}) that the
   * evaluator may ask for samples of a checkpoint.
   *
   * <p>A worker that lost its coordinator after registering (the coordinator died, or this node was
   * cut off and downed) stops its replica and joins {@code o.join()} again with a fresh actor
   * system, for up to {@code scoreflow.cluster.reconnect-timeout}: a coordinator started again with
   * the same command finds its workers back. The exchange server stays up throughout.
   */
  public static WorkerExit run(Options o, WorkerMetrics metrics) throws IOException {
    Config defaults = ConfigFactory.load();
    Duration exchangeTimeout = defaults.getDuration("scoreflow.cluster.exchange-timeout");
    Duration reconnectTimeout = defaults.getDuration("scoreflow.cluster.reconnect-timeout");
    WorkerSettings settings = WorkerSettings.of(o.workerId(), o.host(), o.device(), defaults);
    // The sampler's checkpoint cache is this process's own: two workers (or two runs) on one
    // machine never share it, and it goes when the process ends.
    Path samplerCache = Files.createTempDirectory("scoreflow-sampler-" + o.workerId() + "-");
    deleteOnExit(samplerCache);
    try (ExchangeServer server =
        Exchanges.start(
            o.exchange(),
            o.workerId(),
            o.host(),
            o.exchangePort(),
            exchangeTimeout,
            o.security())) {
      LOG.info(
          "worker {}: {} exchange listening on {}:{}, {}",
          o.workerId(),
          o.exchange().configName(),
          o.host(),
          server.port(),
          o.security().describe());
      Replica.Launcher training =
          TrainingReplica.launcher(server, o.exchange(), o.device(), metrics);
      long giveUpAt = 0;
      boolean reconnecting = false;
      while (true) {
        WorkerSettings attempt = settings;
        if (reconnecting) {
          Duration left = Duration.ofNanos(giveUpAt - System.nanoTime());
          attempt =
              new WorkerSettings(
                  settings.workerId(),
                  settings.host(),
                  settings.device(),
                  settings.registerRetry(),
                  left,
                  settings.stopTimeout(),
                  settings.coordinatorTimeout());
        }
        Attempt a = runOnce(o, attempt, server.port(), training, samplerCache, defaults);
        if (a.exit().code() != WorkerExit.COORDINATOR_LOST) {
          return a.exit();
        }
        if (!a.registered() && !reconnecting) {
          return WorkerExit.failed(a.exit().reason());
        }
        if (a.registered()) {
          giveUpAt = System.nanoTime() + reconnectTimeout.toNanos();
        }
        if (reconnectTimeout.isZero() || System.nanoTime() >= giveUpAt) {
          return WorkerExit.failed(
              a.exit().reason()
                  + "; gave up rejoining "
                  + o.join()
                  + " after scoreflow.cluster.reconnect-timeout = "
                  + reconnectTimeout);
        }
        reconnecting = true;
        LOG.warn(
            "worker {}: {}; joining {} again (for up to {})",
            o.workerId(),
            a.exit().reason(),
            o.join(),
            Duration.ofNanos(giveUpAt - System.nanoTime()).withNanos(0));
        try {
          Thread.sleep(1000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return WorkerExit.failed("interrupted while rejoining " + o.join());
        }
      }
    }
  }

  /** How one actor system's life ended, and whether a coordinator accepted it meanwhile. */
  private record Attempt(WorkerExit exit, boolean registered) {}

  private static Attempt runOnce(
      Options o,
      WorkerSettings settings,
      int exchangePort,
      Replica.Launcher training,
      Path samplerCache,
      Config defaults) {
    CompletableFuture<WorkerExit> exit = new CompletableFuture<>();
    CompletableFuture<Void> registered = new CompletableFuture<>();
    // The node's replica, so that it is stopped even when the actor system ends under the node
    // (downed when cut off from the coordinator) without the node's say.
    AtomicReference<Replica> live = new AtomicReference<>();
    Replica.Launcher tracked =
        (job, events) -> {
          Replica r = training.start(job, events);
          live.set(r);
          return r;
        };
    NodeProof proof =
        o.security()
            .material()
            .map(
                m ->
                    NodeProof.sign(
                        m,
                        CoordinatorProtocol.Register.statement(
                            settings.workerId(), settings.host(), exchangePort, settings.device())))
            .orElse(NodeProof.none());
    ActorSystem<WorkerNode.Command> system =
        ActorSystem.create(
            WorkerNode.create(settings, exchangePort, tracked, exit, registered, proof),
            ClusterNodes.SYSTEM_NAME,
            ArteryTls.systemSetup(
                ClusterNodes.node(
                    o.host(),
                    HostPort.requireListenPort(o.port()),
                    ClusterNodes.pekkoAddress(o.join().host(), o.join().port()),
                    "worker"),
                o.security()));
    system.systemActorOf(
        SamplerActor.create(
            o.workerId(),
            samplerCache,
            o.device(),
            defaults.getDuration("scoreflow.eval.sample-timeout"),
            o.security()),
        "sampler",
        SamplerActor.DISPATCHER);
    system
        .getWhenTerminated()
        .thenRun(
            () ->
                exit.complete(
                    WorkerExit.coordinatorLost(
                        "the node stopped before the job ended (could it join "
                            + o.join()
                            + "? was it cut off from the coordinator and downed?)")));
    WorkerExit result = exit.join();
    Replica replica = live.get();
    if (replica != null) {
      replica.stop();
      try {
        if (!replica.awaitEnd(settings.stopTimeout())) {
          result =
              WorkerExit.failed(
                  result.reason()
                      + "; the training thread did not stop within "
                      + settings.stopTimeout());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      // Leaving the cluster is best effort; the coordinator notices a vanished node anyway.
    }
    return new Attempt(result, registered.isDone());
  }

  private static void deleteOnExit(Path dir) {
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try (java.util.stream.Stream<Path> tree = Files.walk(dir)) {
                    tree.sorted(java.util.Comparator.reverseOrder())
                        .forEach(p -> p.toFile().delete());
                  } catch (IOException e) {
                    // Best effort: a leftover cache in the temp directory harms nobody.
                  }
                },
                "sampler-cache-cleanup"));
  }
}
