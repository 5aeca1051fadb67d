package io.scoreflow.worker;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.scoreflow.coordinator.ClusterNodes;
import io.scoreflow.worker.exchange.ExchangeServer;
import io.scoreflow.worker.sampling.SamplerActor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorSystem;

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
   */
  public record Options(
      ClusterNodes.HostPort join,
      String workerId,
      String host,
      int port,
      int exchangePort,
      String device,
      ExchangeKind exchange) {
    public Options {
      Objects.requireNonNull(join, "join");
      Objects.requireNonNull(workerId, "workerId");
      Objects.requireNonNull(host, "host");
      Objects.requireNonNull(device, "device");
      Objects.requireNonNull(exchange, "exchange");
    }
  }

  private WorkerProcess() {}

  /** Runs the worker until it ends; returns how. */
  public static WorkerExit run(Options o) throws IOException {
    return run(o, WorkerMetrics.unserved());
  }

  /**
   * Runs the worker until it ends, exporting its replicas' metrics to {@code metrics}; returns how.
   * Besides the worker node, the system runs a sampler actor ({@link SamplerActor}) that the
   * evaluator may ask for samples of a checkpoint.
   */
  public static WorkerExit run(Options o, WorkerMetrics metrics) throws IOException {
    Config defaults = ConfigFactory.load();
    Duration exchangeTimeout = defaults.getDuration("scoreflow.cluster.exchange-timeout");
    try (ExchangeServer server =
        o.exchange().backend().start(o.workerId(), o.host(), o.exchangePort(), exchangeTimeout)) {
      CompletableFuture<WorkerExit> exit = new CompletableFuture<>();
      WorkerSettings settings = WorkerSettings.of(o.workerId(), o.host(), o.device(), defaults);
      ActorSystem<WorkerNode.Command> system =
          ActorSystem.create(
              WorkerNode.create(
                  settings,
                  server.port(),
                  TrainingReplica.launcher(server, o.exchange(), o.device(), metrics),
                  exit),
              ClusterNodes.SYSTEM_NAME,
              ClusterNodes.node(o.host(), o.port(), o.join(), "worker"));
      // The sampler's checkpoint cache is this process's own: two workers (or two runs) on one
      // machine never share it, and it goes when the process ends.
      Path samplerCache = Files.createTempDirectory("scoreflow-sampler-" + o.workerId() + "-");
      deleteOnExit(samplerCache);
      system.systemActorOf(
          SamplerActor.create(
              o.workerId(),
              samplerCache,
              o.device(),
              defaults.getDuration("scoreflow.eval.sample-timeout")),
          "sampler",
          SamplerActor.DISPATCHER);
      system
          .getWhenTerminated()
          .thenRun(
              () ->
                  exit.complete(
                      WorkerExit.failed(
                          "the node stopped before the job ended (could it join "
                              + o.join()
                              + "? was it downed?)")));
      WorkerExit result = exit.join();
      system.terminate();
      try {
        system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (ExecutionException | TimeoutException e) {
        // Leaving the cluster is best effort; the coordinator notices a vanished node anyway.
      }
      return result;
    }
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
