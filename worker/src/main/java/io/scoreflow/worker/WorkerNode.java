package io.scoreflow.worker;

import io.scoreflow.proto.cluster.ClusterNodes;
import io.scoreflow.proto.cluster.CoordinatorProtocol;
import io.scoreflow.proto.cluster.WorkerProtocol;
import io.scoreflow.security.NodeProof;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * A worker node's actor: finds the coordinator through the receptionist, registers (repeating until
 * acknowledged, within a deadline), starts its replica when told, relays the replica's step
 * reports, stops it when the coordinator dissolves the ring ({@link WorkerProtocol.Abort}: it
 * answers {@link CoordinatorProtocol.Stopped} once the training thread ended, then waits for the
 * next ring), and ends when released, when the coordinator is gone, or when a deadline passes. The
 * outcome completes the {@code exit} future the process waits on (and {@code registered} the first
 * time the coordinator accepts it); the process then leaves the cluster and terminates, or rejoins
 * a restarted coordinator.
 *
 * <p>A worker of a pool (the coordinator answered {@link WorkerProtocol.Pooled}) waits without a
 * deadline for a job to take it, and when a job releases it, it stops its replica and registers
 * with the pool again instead of ending; only the pool's own release ends it.
 *
 * <p>Training never runs on the actor's thread: the {@link Replica} has its own, and talks back
 * through messages to this actor, so all messages to the coordinator leave from one place, in order
 * (a rank's step reports always precede its done report).
 */
public final class WorkerNode {

  private static final String REGISTER_TICK = "register-tick";
  private static final String DEADLINE = "deadline";
  private static final String COORDINATOR_UNREACHABLE = "coordinator-unreachable";

  /** The worker's protocol: the coordinator's messages, adapted, and its own. */
  public sealed interface Command
      permits FromCoordinator,
          CoordinatorListing,
          RegisterTick,
          Deadline,
          StepDone,
          RunEnded,
          Reachability,
          CoordinatorGone {}

  private record FromCoordinator(WorkerProtocol.Command message) implements Command {}

  private record CoordinatorListing(Receptionist.Listing listing) implements Command {}

  private enum RegisterTick implements Command {
    INSTANCE
  }

  /** A deadline of the current state passed; {@code what} says which. */
  private record Deadline(String what) implements Command {}

  private record StepDone(CoordinatorProtocol.StepReport report) implements Command {}

  private record RunEnded(long step, String failure, boolean inExchange) implements Command {}

  /** The cluster's failure detector changed its mind about the node at {@code address}. */
  private record Reachability(Address address, boolean reachable) implements Command {}

  private enum CoordinatorGone implements Command {
    INSTANCE
  }

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final WorkerSettings settings;
  private final int exchangePort;
  private final Replica.Launcher launcher;
  private final CompletableFuture<WorkerExit> exit;
  private final CompletableFuture<Void> registeredOnce;
  private final NodeProof proof;
  private final ActorRef<WorkerProtocol.Command> inbox;
  private ActorRef<CoordinatorProtocol.Command> coordinator;
  private WorkerProtocol.StartJob job;

  /** The job this worker registered with (null until the coordinator accepted it). */
  private String registeredJob;

  private Replica replica;

  /** The pool this worker belongs to (null: it serves one job and ends with it). */
  private WorkerProtocol.Pooled pool;

  private WorkerNode(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      WorkerSettings settings,
      int exchangePort,
      Replica.Launcher launcher,
      CompletableFuture<WorkerExit> exit,
      CompletableFuture<Void> registeredOnce,
      NodeProof proof) {
    this.ctx = ctx;
    this.proof = proof;
    this.timers = timers;
    this.settings = settings;
    this.exchangePort = exchangePort;
    this.launcher = launcher;
    this.exit = exit;
    this.registeredOnce = registeredOnce;
    this.inbox = ctx.messageAdapter(WorkerProtocol.Command.class, FromCoordinator::new);
  }

  /**
   * A worker that advertises its exchange server at {@code exchangePort}, starts replicas with
   * {@code launcher}, and completes {@code exit} when it ends.
   */
  public static Behavior<Command> create(
      WorkerSettings settings,
      int exchangePort,
      Replica.Launcher launcher,
      CompletableFuture<WorkerExit> exit) {
    return create(
        settings, exchangePort, launcher, exit, new CompletableFuture<>(), NodeProof.none());
  }

  /**
   * As above; {@code registeredOnce} completes when the coordinator first accepts this worker, and
   * {@code proof} (the worker's signature over its {@link CoordinatorProtocol.Register#statement})
   * goes with every registration.
   */
  public static Behavior<Command> create(
      WorkerSettings settings,
      int exchangePort,
      Replica.Launcher launcher,
      CompletableFuture<WorkerExit> exit,
      CompletableFuture<Void> registeredOnce,
      NodeProof proof) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers ->
                    new WorkerNode(
                            ctx,
                            timers,
                            settings,
                            exchangePort,
                            launcher,
                            exit,
                            registeredOnce,
                            proof)
                        .start()));
  }

  private Behavior<Command> start() {
    if (ClusterNodes.clustered(ctx.getSystem())) {
      var subscriptions = Cluster.get(ctx.getSystem()).subscriptions();
      subscriptions.tell(
          Subscribe.create(
              ctx.messageAdapter(
                  ClusterEvent.UnreachableMember.class,
                  e -> new Reachability(e.member().address(), false)),
              ClusterEvent.UnreachableMember.class));
      subscriptions.tell(
          Subscribe.create(
              ctx.messageAdapter(
                  ClusterEvent.ReachableMember.class,
                  e -> new Reachability(e.member().address(), true)),
              ClusterEvent.ReachableMember.class));
    }
    ctx.getSystem()
        .receptionist()
        .tell(
            Receptionist.subscribe(
                CoordinatorProtocol.SERVICE_KEY,
                ctx.messageAdapter(Receptionist.Listing.class, CoordinatorListing::new)));
    timers.startSingleTimer(
        DEADLINE,
        new Deadline("no coordinator registered this worker within " + settings.registerTimeout()),
        settings.registerTimeout());
    ctx.getLog().info("worker {}: looking for the coordinator", settings.workerId());
    return registering();
  }

  // ---- registering: find the coordinator, register until acknowledged ----

  private Behavior<Command> registering() {
    return Behaviors.receive(Command.class)
        .onMessage(CoordinatorListing.class, this::onListing)
        .onMessage(RegisterTick.class, m -> register())
        .onMessage(FromCoordinator.class, m -> addressed(m, this::onReplyToRegistration))
        .onMessage(Deadline.class, m -> end(WorkerExit.failed(m.what())))
        .onMessage(Reachability.class, this::onReachability)
        .onMessage(CoordinatorGone.class, m -> end(coordinatorLost()))
        .build();
  }

  /**
   * Nobody downs the coordinator (it is the cluster's only downing authority), so its loss shows as
   * unreachability that lasts: after {@code coordinatorTimeout} the worker counts it as gone.
   */
  private Behavior<Command> onReachability(Reachability m) {
    if (coordinator == null || !m.address().equals(coordinator.path().address())) {
      return Behaviors.same();
    }
    if (m.reachable()) {
      timers.cancel(COORDINATOR_UNREACHABLE);
    } else {
      ctx.getLog()
          .warn(
              "worker {}: the coordinator is unreachable; counting it as gone after {}",
              settings.workerId(),
              settings.coordinatorTimeout());
      timers.startSingleTimer(
          COORDINATOR_UNREACHABLE, CoordinatorGone.INSTANCE, settings.coordinatorTimeout());
    }
    return Behaviors.same();
  }

  private static WorkerExit coordinatorLost() {
    return WorkerExit.coordinatorLost("the coordinator is gone");
  }

  private Behavior<Command> onListing(CoordinatorListing m) {
    Set<ActorRef<CoordinatorProtocol.Command>> found =
        m.listing().getServiceInstances(CoordinatorProtocol.SERVICE_KEY);
    if (coordinator == null && !found.isEmpty()) {
      coordinator = found.iterator().next();
      ctx.getLog()
          .info("worker {}: found the coordinator {}", settings.workerId(), coordinator.path());
      timers.startTimerWithFixedDelay(
          REGISTER_TICK, RegisterTick.INSTANCE, settings.registerRetry());
      return register();
    }
    return Behaviors.same();
  }

  private Behavior<Command> register() {
    if (coordinator != null) {
      coordinator.tell(
          new CoordinatorProtocol.Register(
              settings.workerId(),
              settings.host(),
              exchangePort,
              settings.device(),
              inbox,
              proof.certificate(),
              proof.signature()));
    }
    return Behaviors.same();
  }

  /**
   * Hands {@code m} to {@code handler} only when it is addressed to this worker: of the job it
   * registered with, for its id, and not of a generation older than the ring it last joined. A
   * stale message (a ring long dissolved) or a foreign one (another job's coordinator, a node that
   * guessed this worker's address) is logged and dropped: it must not end, abort or start anything.
   */
  private Behavior<Command> addressed(
      FromCoordinator m, java.util.function.Function<FromCoordinator, Behavior<Command>> handler) {
    String refusal = refusal(m.message());
    if (refusal == null) {
      return handler.apply(m);
    }
    ctx.getLog()
        .warn(
            "worker {}: ignored {}: {}",
            settings.workerId(),
            m.message().getClass().getSimpleName(),
            refusal);
    return Behaviors.same();
  }

  /** Why {@code message} is not for this worker, or null when it is. */
  private String refusal(WorkerProtocol.Command message) {
    String me = settings.workerId();
    if (message instanceof WorkerProtocol.Registered r) {
      return r.workerId().equals(me) ? otherJob(r.job()) : "it registers worker " + r.workerId();
    }
    if (message instanceof WorkerProtocol.RegistrationRefused r) {
      return r.workerId().equals(me) ? null : "it is for worker " + r.workerId();
    }
    if (message instanceof WorkerProtocol.RegistrationDeferred r) {
      return r.workerId().equals(me) ? null : "it is for worker " + r.workerId();
    }
    if (message instanceof WorkerProtocol.Pooled p) {
      return p.workerId().equals(me) ? null : "it is for worker " + p.workerId();
    }
    if (message instanceof WorkerProtocol.StartJob start) {
      String other = otherJob(start.job());
      if (other != null) {
        return other;
      }
      if (start.rank() < 0
          || start.rank() >= start.ring().size()
          || !start.ring().get(start.rank()).workerId().equals(me)) {
        return "its ring does not place worker " + me + " at rank " + start.rank();
      }
      return stale(start.generation());
    }
    if (message instanceof WorkerProtocol.Abort abort) {
      String other = otherJob(abort.job());
      return other != null ? other : stale(abort.generation());
    }
    if (message instanceof WorkerProtocol.Release release) {
      String other = otherJob(release.job());
      return other != null ? other : stale(release.generation());
    }
    return null;
  }

  private String otherJob(String messageJob) {
    return registeredJob == null || registeredJob.equals(messageJob)
        ? null
        : "it is of job " + messageJob + ", this worker is in job " + registeredJob;
  }

  private String stale(long generation) {
    return job == null || generation >= job.generation()
        ? null
        : "generation "
            + generation
            + " is older than this worker's ring (generation "
            + job.generation()
            + ")";
  }

  private Behavior<Command> onReplyToRegistration(FromCoordinator m) {
    if (m.message() instanceof WorkerProtocol.Registered registered) {
      timers.cancel(REGISTER_TICK);
      timers.cancel(DEADLINE);
      coordinator = registered.coordinator();
      registeredJob = registered.job();
      if (pool == null) {
        // A pool's jobs live on the pool's node: watching the pool is watching them.
        ctx.watchWith(coordinator, CoordinatorGone.INSTANCE);
      }
      registeredOnce.complete(null);
      ctx.getLog()
          .info(
              "job {}: worker {} registered (exchange port {}); waiting for the ring",
              registered.job(),
              settings.workerId(),
              exchangePort);
      return waiting();
    }
    if (m.message() instanceof WorkerProtocol.Pooled pooled) {
      return intoPool(pooled);
    }
    if (m.message() instanceof WorkerProtocol.RegistrationRefused refused) {
      return end(WorkerExit.failed("the coordinator refused this worker: " + refused.reason()));
    }
    if (m.message() instanceof WorkerProtocol.RegistrationDeferred deferred) {
      // Registering goes on at every tick until the registration deadline.
      ctx.getLog()
          .warn("worker {}: not registered yet: {}", settings.workerId(), deferred.reason());
      return Behaviors.same();
    }
    if (m.message() instanceof WorkerProtocol.Release release) {
      return onRelease(release);
    }
    return Behaviors.same();
  }

  // ---- pooled: idle in a pool, until a job takes this worker ----

  private Behavior<Command> intoPool(WorkerProtocol.Pooled pooled) {
    timers.cancel(REGISTER_TICK);
    timers.cancel(DEADLINE);
    if (pool == null) {
      ctx.watchWith(pooled.coordinator(), CoordinatorGone.INSTANCE);
      ctx.getLog()
          .info(
              "worker {}: in pool {} (exchange port {}); waiting for a job",
              settings.workerId(),
              pooled.pool(),
              exchangePort);
    }
    pool = pooled;
    coordinator = pooled.coordinator();
    registeredJob = null;
    job = null;
    registeredOnce.complete(null);
    return Behaviors.receive(Command.class)
        .onMessage(FromCoordinator.class, m -> addressed(m, this::onCoordinatorWhilePooled))
        .onMessage(Reachability.class, this::onReachability)
        .onMessage(CoordinatorGone.class, m -> end(coordinatorLost()))
        .onAnyMessage(m -> Behaviors.same())
        .build();
  }

  private Behavior<Command> onCoordinatorWhilePooled(FromCoordinator m) {
    if (m.message() instanceof WorkerProtocol.Registered) {
      return onReplyToRegistration(m);
    }
    if (m.message() instanceof WorkerProtocol.Release release
        && release.job().equals(pool.pool())) {
      return onRelease(release);
    }
    return Behaviors.same();
  }

  /**
   * A job of the pool is over for this worker (its replica stopped): register with the pool again,
   * which answers {@link WorkerProtocol.Pooled}.
   */
  private Behavior<Command> backToPool(String why) {
    timers.cancelAll();
    ctx.getLog()
        .info(
            "job {}: worker {} back to pool {}: {}",
            registeredJob,
            settings.workerId(),
            pool.pool(),
            why);
    replica = null;
    job = null;
    registeredJob = null;
    coordinator = pool.coordinator();
    timers.startTimerWithFixedDelay(REGISTER_TICK, RegisterTick.INSTANCE, settings.registerRetry());
    timers.startSingleTimer(
        DEADLINE,
        new Deadline(
            "pool "
                + pool.pool()
                + " did not take this worker back within "
                + settings.registerTimeout()),
        settings.registerTimeout());
    register();
    return registering();
  }

  // ---- waiting: registered, no job yet ----

  private Behavior<Command> waiting() {
    return Behaviors.receive(Command.class)
        .onMessage(FromCoordinator.class, m -> addressed(m, this::onCoordinatorWhileWaiting))
        .onMessage(Reachability.class, this::onReachability)
        .onMessage(CoordinatorGone.class, m -> end(coordinatorLost()))
        .onMessage(StepDone.class, m -> Behaviors.same())
        .onMessage(RunEnded.class, m -> Behaviors.same())
        .onMessage(RegisterTick.class, m -> Behaviors.same())
        .onMessage(CoordinatorListing.class, m -> Behaviors.same())
        .onMessage(Deadline.class, m -> Behaviors.same())
        .build();
  }

  private Behavior<Command> onCoordinatorWhileWaiting(FromCoordinator m) {
    if (m.message() instanceof WorkerProtocol.StartJob start) {
      job = start;
      ctx.getLog()
          .info(
              "job {} generation {} step {}: worker {} starts as rank {} of {} (until step {})",
              start.job(),
              start.generation(),
              start.startStep(),
              settings.workerId(),
              start.rank(),
              start.ring().size(),
              start.untilStep());
      ActorRef<Command> self = ctx.getSelf();
      replica = launcher.start(start, new RelayingEvents(self));
      return training();
    }
    if (m.message() instanceof WorkerProtocol.Abort abort) {
      return confirmStopped(abort);
    }
    if (m.message() instanceof WorkerProtocol.Release release) {
      return onRelease(release);
    }
    return Behaviors.same();
  }

  /** Nothing of an old ring runs here any more: say so, and wait for the next ring. */
  private Behavior<Command> confirmStopped(WorkerProtocol.Abort abort) {
    timers.cancel(DEADLINE);
    replica = null;
    coordinator.tell(
        new CoordinatorProtocol.Stopped(abort.job(), abort.generation(), settings.workerId()));
    ctx.getLog()
        .info(
            "job {} generation {}: worker {} stopped ({}); waiting for the next ring",
            abort.job(),
            abort.generation(),
            settings.workerId(),
            abort.reason());
    return waiting();
  }

  private Behavior<Command> onRelease(WorkerProtocol.Release release) {
    if (pool != null && !release.job().equals(pool.pool())) {
      return backToPool("released: " + release.reason());
    }
    String why = "released by the coordinator: " + release.reason();
    return end(release.succeeded() ? WorkerExit.ok(why) : WorkerExit.failed(why));
  }

  // ---- training: the replica runs on its own thread ----

  private Behavior<Command> training() {
    return Behaviors.receive(Command.class)
        .onMessage(StepDone.class, this::onStepDone)
        .onMessage(RunEnded.class, this::onRunEnded)
        .onMessage(FromCoordinator.class, m -> addressed(m, this::onCoordinatorWhileTraining))
        .onMessage(Reachability.class, this::onReachability)
        .onMessage(CoordinatorGone.class, m -> stopReplica(coordinatorLost()))
        .onMessage(RegisterTick.class, m -> Behaviors.same())
        .onMessage(CoordinatorListing.class, m -> Behaviors.same())
        .onMessage(Deadline.class, m -> Behaviors.same())
        .build();
  }

  private Behavior<Command> onStepDone(StepDone m) {
    coordinator.tell(m.report());
    return Behaviors.same();
  }

  private Behavior<Command> onRunEnded(RunEnded m) {
    if (m.failure() == null) {
      coordinator.tell(
          new CoordinatorProtocol.RankDone(job.job(), job.generation(), job.rank(), m.step()));
      ctx.getLog()
          .info(
              "job {} generation {} step {}: rank {} done; waiting to be released",
              job.job(),
              job.generation(),
              m.step(),
              job.rank());
    } else {
      coordinator.tell(
          new CoordinatorProtocol.RankFailed(
              job.job(), job.generation(), job.rank(), m.step(), m.failure(), m.inExchange()));
      ctx.getLog()
          .error(
              "job {} generation {} step {}: rank {} failed: {}",
              job.job(),
              job.generation(),
              m.step(),
              job.rank(),
              m.failure());
    }
    timers.startSingleTimer(
        DEADLINE,
        new Deadline("the coordinator did not release this worker after its run ended"),
        settings.registerTimeout());
    return ranDone();
  }

  private Behavior<Command> onCoordinatorWhileTraining(FromCoordinator m) {
    if (m.message() instanceof WorkerProtocol.Abort abort) {
      return abortReplica(abort);
    }
    if (m.message() instanceof WorkerProtocol.Release release) {
      String why = "released by the coordinator while training: " + release.reason();
      return stopReplica(
          release, release.succeeded() ? WorkerExit.ok(why) : WorkerExit.failed(why));
    }
    ctx.getLog()
        .warn(
            "job {} generation {}: worker {} ignored {} while training",
            job.job(),
            job.generation(),
            settings.workerId(),
            m.message().getClass().getSimpleName());
    return Behaviors.same();
  }

  /**
   * Stops the replica because a job released this worker: a worker of a pool then goes back to it,
   * any other ends with {@code outcome}.
   */
  private Behavior<Command> stopReplica(WorkerProtocol.Release release, WorkerExit outcome) {
    if (pool == null || release.job().equals(pool.pool())) {
      return stopReplica(outcome);
    }
    askReplicaToStop();
    return Behaviors.receive(Command.class)
        .onMessage(RunEnded.class, m -> backToPool("released while training: " + release.reason()))
        .onMessage(Deadline.class, m -> end(outcome.withNote(m.what())))
        .onMessage(CoordinatorGone.class, m -> stopReplica(coordinatorLost()))
        .onAnyMessage(m -> Behaviors.same())
        .build();
  }

  private Behavior<Command> stopReplica(WorkerExit outcome) {
    askReplicaToStop();
    return Behaviors.receive(Command.class)
        .onMessage(RunEnded.class, m -> end(outcome))
        .onMessage(Deadline.class, m -> end(outcome.withNote(m.what())))
        .onAnyMessage(m -> Behaviors.same())
        .build();
  }

  /** Stops the replica (at once; its thread then ends) with a deadline for the thread to end. */
  private void askReplicaToStop() {
    replica.stop();
    timers.startSingleTimer(
        DEADLINE,
        new Deadline("the training thread did not stop within " + settings.stopTimeout()),
        settings.stopTimeout());
  }

  /**
   * Stops the replica of a dissolved ring; confirms once its thread ended (rank 0's checkpoints are
   * written by then). A thread that does not stop in time ends the worker: the coordinator then
   * forms the next ring without it.
   */
  private Behavior<Command> abortReplica(WorkerProtocol.Abort abort) {
    askReplicaToStop();
    return Behaviors.receive(Command.class)
        .onMessage(RunEnded.class, m -> confirmStopped(abort))
        .onMessage(Deadline.class, m -> end(WorkerExit.failed(m.what())))
        .onMessage(Reachability.class, this::onReachability)
        .onMessage(CoordinatorGone.class, m -> stopReplica(coordinatorLost()))
        .onMessage(FromCoordinator.class, m -> addressed(m, this::onCoordinatorWhileAborting))
        .onAnyMessage(m -> Behaviors.same())
        .build();
  }

  private Behavior<Command> onCoordinatorWhileAborting(FromCoordinator m) {
    if (m.message() instanceof WorkerProtocol.Release release) {
      String why = "released by the coordinator while stopping: " + release.reason();
      return stopReplica(
          release, release.succeeded() ? WorkerExit.ok(why) : WorkerExit.failed(why));
    }
    // A newer Abort while this one is still stopping: the confirmation will carry the older
    // generation, which the coordinator accepts from a worker it waits for.
    return Behaviors.same();
  }

  // ---- ran: the replica's thread ended, waiting for the coordinator's release ----

  private Behavior<Command> ranDone() {
    return Behaviors.receive(Command.class)
        .onMessage(FromCoordinator.class, m -> addressed(m, this::onCoordinatorAfterRun))
        .onMessage(Reachability.class, this::onReachability)
        .onMessage(CoordinatorGone.class, m -> end(coordinatorLost()))
        .onMessage(Deadline.class, m -> end(WorkerExit.failed(m.what())))
        .onAnyMessage(m -> Behaviors.same())
        .build();
  }

  private Behavior<Command> onCoordinatorAfterRun(FromCoordinator m) {
    if (m.message() instanceof WorkerProtocol.Abort abort) {
      return confirmStopped(abort);
    }
    if (m.message() instanceof WorkerProtocol.Release release) {
      return onRelease(release);
    }
    return Behaviors.same();
  }

  private Behavior<Command> end(WorkerExit outcome) {
    timers.cancelAll();
    if (outcome.code() != WorkerExit.FAILED) {
      ctx.getLog().info("worker {}: ending: {}", settings.workerId(), outcome.reason());
    } else {
      ctx.getLog().error("worker {}: ending: {}", settings.workerId(), outcome.reason());
    }
    exit.complete(outcome);
    // Not stopped: the process leaves the cluster through the system's coordinated shutdown, which
    // a stopping guardian would cut short.
    return Behaviors.ignore();
  }

  /** The replica's events, as messages to this actor (called from the training thread). */
  private record RelayingEvents(ActorRef<Command> self) implements Replica.Events {
    @Override
    public void onStep(CoordinatorProtocol.StepReport report) {
      self.tell(new StepDone(report));
    }

    @Override
    public void onEnd(long step, String failure, boolean inExchange) {
      self.tell(new RunEnded(step, failure, inExchange));
    }
  }
}
