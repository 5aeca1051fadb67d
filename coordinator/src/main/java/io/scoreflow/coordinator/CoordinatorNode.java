package io.scoreflow.coordinator;

import io.scoreflow.proto.cluster.ClusterNodes;
import io.scoreflow.run.HostPort;
import io.scoreflow.security.ArteryTls;
import io.scoreflow.security.TlsMaterial;
import io.scoreflow.security.TransportSecurity;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Down;
import org.apache.pekko.cluster.typed.Join;

/**
 * A coordinator process's node: the actor system (the cluster's seed: it joins itself), the {@link
 * Coordinator} of one job, and the job's events as a queue for the thread that shows progress.
 */
public final class CoordinatorNode implements AutoCloseable {

  private final ActorSystem<Void> system;
  private final BlockingQueue<JobEvent> events;
  private final HostPort address;
  private final ActorRef<?> root;

  private CoordinatorNode(
      ActorSystem<Void> system, BlockingQueue<JobEvent> events, ActorRef<?> root) {
    this.system = system;
    this.root = root;
    this.events = events;
    Cluster cluster = Cluster.get(system);
    var self = cluster.selfMember().address();
    this.address = new HostPort(self.host().get(), (Integer) self.port().get());
    cluster.manager().tell(Join.create(self));
  }

  /**
   * Starts the node on {@code host}:{@code port} ({@code 0}: any free port) and its coordinator.
   */
  public static CoordinatorNode start(
      JobSpec spec, CheckpointCatalog catalog, String host, int port) {
    return start(spec, catalog, host, port, Map.of(), TransportSecurity.plaintext());
  }

  /**
   * As {@link #start(JobSpec, CheckpointCatalog, String, int)}, with {@code actors} (by name)
   * running next to the coordinator: the evaluator; the node's Artery and the checking of
   * registrations run under {@code security}.
   */
  public static CoordinatorNode start(
      JobSpec spec,
      CheckpointCatalog catalog,
      String host,
      int port,
      Map<String, Behavior<?>> actors,
      TransportSecurity security) {
    Optional<X509Certificate> ca = security.material().map(TlsMaterial::ca);
    return start(
        (ctx, listener) -> {
          actors.forEach((name, behavior) -> ctx.spawn(behavior, name));
          return ctx.spawn(Coordinator.create(spec, catalog, listener, ca), "coordinator");
        },
        spec.job(),
        host,
        port,
        security);
  }

  /**
   * A node running the {@link WorkerPool} {@code pool} instead of one job's coordinator: submit
   * jobs to it with {@link #tell}; every job's events come out of {@link #poll}.
   */
  public static CoordinatorNode startPool(
      String pool, String host, int port, TransportSecurity security) {
    Optional<X509Certificate> ca = security.material().map(TlsMaterial::ca);
    return start(
        (ctx, listener) -> ctx.spawn(WorkerPool.create(pool, listener, ca), "pool"),
        pool,
        host,
        port,
        security);
  }

  /** What the node's guardian spawns: its root actor, told about events through the listener. */
  @FunctionalInterface
  private interface Root {
    ActorRef<?> spawn(ActorContext<Void> ctx, ActorRef<JobEvent> listener);
  }

  private static CoordinatorNode start(
      Root root, String job, String host, int port, TransportSecurity security) {
    BlockingQueue<JobEvent> events = new LinkedBlockingQueue<>();
    java.util.concurrent.CompletableFuture<ActorRef<?>> spawned =
        new java.util.concurrent.CompletableFuture<>();
    Behavior<Void> guardian =
        Behaviors.setup(
            ctx -> {
              ActorRef<JobEvent> listener = ctx.spawn(queueing(events), "events");
              ActorRef<?> actor = root.spawn(ctx, listener);
              spawned.complete(actor);
              // A coordinator that dies (a bug) must end the job, not leave its follower waiting.
              ctx.watch(actor);
              return Behaviors.receive(Void.class)
                  .onSignal(
                      Terminated.class,
                      t -> {
                        events.add(stopped(job, "the coordinator actor (see its log)"));
                        return Behaviors.same();
                      })
                  .build();
            });
    ActorSystem<Void> system =
        ActorSystem.create(
            guardian,
            ClusterNodes.SYSTEM_NAME,
            ArteryTls.systemSetup(
                ClusterNodes.node(host, HostPort.requireListenPort(port), null, "coordinator"),
                security));
    system.getWhenTerminated().thenRun(() -> events.add(stopped(job, "the coordinator's node")));
    return new CoordinatorNode(
        system, events, spawned.orTimeout(60, java.util.concurrent.TimeUnit.SECONDS).join());
  }

  /** The end of a job whose coordinator ({@code what}) stopped under it. */
  private static JobEvent stopped(String job, String what) {
    return new JobEvent.JobFailed(
        job, 0, FailureReason.COORDINATOR_STOPPED, what + " stopped before the job ended");
  }

  private static Behavior<JobEvent> queueing(BlockingQueue<JobEvent> events) {
    return Behaviors.receive(JobEvent.class).onAnyMessage(e -> enqueue(events, e)).build();
  }

  private static Behavior<JobEvent> enqueue(BlockingQueue<JobEvent> events, JobEvent e) {
    events.add(e);
    return Behaviors.same();
  }

  /** Tells the node's root actor (the pool: {@link WorkerPool.Submit} and the like) {@code m}. */
  @SuppressWarnings("unchecked")
  public void tell(Object m) {
    ((ActorRef<Object>) root).tell(m);
  }

  /** Where workers join: {@code scoreflow worker --join} this. */
  public HostPort address() {
    return address;
  }

  /** The next event of the job, or null if none came within {@code timeout}. */
  public JobEvent poll(Duration timeout) throws InterruptedException {
    return events.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Stops the node; waits up to 30 s. The coordinator is the last node of its cluster, so it downs
   * itself rather than leaving (a leave waits for the gone workers to acknowledge it).
   */
  @Override
  public void close() {
    Cluster cluster = Cluster.get(system);
    awaitAlone(cluster, Duration.ofSeconds(10));
    cluster.manager().tell(new Down(cluster.selfMember().address()));
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
      // Terminating is best effort at exit.
    }
  }

  /**
   * Gives released workers time to leave (unreachable ones cannot), so nobody has to notice an
   * abrupt end.
   */
  private static void awaitAlone(Cluster cluster, Duration timeout) {
    long until = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < until) {
      int others = 0;
      for (var m : cluster.state().getMembers()) {
        if (!m.address().equals(cluster.selfMember().address())
            && !cluster.state().getUnreachable().contains(m)) {
          others++;
        }
      }
      if (others == 0) {
        return;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
