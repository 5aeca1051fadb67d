package io.scoreflow.coordinator;

import static io.scoreflow.proto.cluster.CoordinatorProtocol.SERVICE_KEY;

import io.scoreflow.proto.cluster.ClusterNodes;
import io.scoreflow.proto.cluster.CoordinatorProtocol.Command;
import io.scoreflow.proto.cluster.CoordinatorProtocol.RankDone;
import io.scoreflow.proto.cluster.CoordinatorProtocol.RankFailed;
import io.scoreflow.proto.cluster.CoordinatorProtocol.Register;
import io.scoreflow.proto.cluster.CoordinatorProtocol.StepReport;
import io.scoreflow.proto.cluster.CoordinatorProtocol.Stopped;
import io.scoreflow.proto.cluster.RingMember;
import io.scoreflow.proto.cluster.WorkerProtocol;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Down;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * The brain of a distributed training job: collects worker registrations, forms the ring (ranks in
 * worker-id order) under a generation, tells every member to start at the newest valid checkpoint,
 * aggregates the ranks' step reports (and fails the job when their parameter checksums differ), and
 * declares the job finished when every rank reported the last step.
 *
 * <p>Generations: the first ring is generation 1; every membership change that touches the
 * registered workers (a member removed, unreachable, or its actor gone; a replacement joining)
 * bumps it, and messages of another generation are refused.
 *
 * <p>Regrouping, after Flink's checkpoint coordinator: when a ring member is lost, or a rank's
 * gradient exchange fails (a peer died before the cluster noticed), the ring is dissolved under a
 * new generation. Every registered worker is told to {@link WorkerProtocol.Abort abort} and must
 * confirm it {@link Stopped stopped} (rank 0's checkpoint writer drained), so nothing of the old
 * ring still runs or writes. Then a new ring forms, as at the start, from the newest complete
 * checkpoint: the newest checkpoint is the truth, steps after it are trained again. A replacement
 * that registers while the ring trains waits as a standby and joins at the next checkpoint step, so
 * no work is lost to let it in. With fewer workers than asked for, the ring re-forms after {@link
 * JobSpec#regroupTimeout()} if at least {@link JobSpec#minWorkers()} are there (elastic); a fault
 * that every new ring hits again fails the job after {@link JobSpec#maxRegroups()} regroups without
 * progress.
 *
 * <p>In a pool ({@link WorkerPool}), a coordinator is one job among several: it is not listed with
 * the receptionist (the pool is), its workers come from the pool, and a worker it does not keep
 * (not needed, the ring is full, the job is over, released) goes back to the pool instead of being
 * refused or ended.
 *
 * <p>Deadlines: registration ({@link JobSpec#formTimeout()}; {@link JobSpec#regroupTimeout()} after
 * a regroup) and progress ({@link JobSpec#stepTimeout()}, restarted at every completed step), so a
 * job never hangs.
 */
public final class Coordinator {

  private static final String FORMATION_TIMER = "formation";
  private static final String STEP_TIMER = "step";

  /**
   * The coordinator's own signals, beside its public protocol ({@link CoordinatorProtocol}): a
   * watched worker's end, cluster membership events, timers. They never leave this JVM. The actor
   * handles both kinds, so its behaviour is typed {@code Object} inside and narrowed to {@link
   * CoordinatorProtocol.Command} for everyone else.
   */
  private sealed interface Signal
      permits WorkerTerminated, MemberGone, FormationDeadline, StepDeadline {}

  private record WorkerTerminated(String workerId, ActorRef<WorkerProtocol.Command> worker)
      implements Signal {}

  private record MemberGone(Address address, String how, boolean unreachable) implements Signal {}

  private enum FormationDeadline implements Signal {
    INSTANCE
  }

  private record StepDeadline(long generation, long lastAgreedStep) implements Signal {}

  /**
   * Stop the job (the pool's {@code sweep cancel}): it fails with {@link FailureReason#CANCELLED},
   * its workers are released. Local to the pool's JVM.
   */
  public record Cancel(String reason) {}

  private final ActorContext<Object> ctx;
  private final TimerScheduler<Object> timers;
  private final JobSpec spec;
  private final ActorRef<JobEvent> listener;
  private final Registrations registered;
  private long generation;
  private List<RingMember> ring = List.of();
  private long startStep;
  private StepAggregator steps;
  private final Set<Integer> ranksDone = new TreeSet<>();

  /** Workers told to abort that have not confirmed their stop: no ring forms before they do. */
  private final Set<String> stopping = new TreeSet<>();

  /**
   * Whether a ring was dissolved: the first formation waits formTimeout, later ones regroupTimeout.
   */
  private boolean regrouping;

  /** Where the next ring starts, and whether regrouping still makes progress. */
  private final RestartPoint restarts;

  /** The pool this job's workers come from and go back to; empty for a coordinator of one job. */
  private final Optional<ActorRef<Object>> pool;

  private Coordinator(
      ActorContext<Object> ctx,
      TimerScheduler<Object> timers,
      JobSpec spec,
      CheckpointCatalog catalog,
      ActorRef<JobEvent> listener,
      Optional<X509Certificate> ca,
      Optional<ActorRef<Object>> pool) {
    this.ctx = ctx;
    this.pool = pool;
    this.registered = new Registrations(ca);
    this.timers = timers;
    this.spec = spec;
    this.listener = listener;
    this.generation = spec.firstGeneration();
    this.restarts = new RestartPoint(catalog, spec.maxRegroups());
  }

  /**
   * The coordinator of {@code spec}; {@code catalog} says where a ring starts, {@code listener}
   * hears about rings, progress and the outcome. Registrations are not checked (plaintext).
   */
  public static Behavior<Command> create(
      JobSpec spec, CheckpointCatalog catalog, ActorRef<JobEvent> listener) {
    return create(spec, catalog, listener, Optional.empty());
  }

  /**
   * As above; with the job's CA {@code ca}, a registration counts only when signed by the
   * certificate of the worker id it claims.
   */
  public static Behavior<Command> create(
      JobSpec spec,
      CheckpointCatalog catalog,
      ActorRef<JobEvent> listener,
      Optional<X509Certificate> ca) {
    Behavior<Object> behavior =
        Behaviors.setup(
            ctx ->
                Behaviors.withTimers(
                    timers ->
                        new Coordinator(ctx, timers, spec, catalog, listener, ca, Optional.empty())
                            .start()));
    return behavior.narrow();
  }

  /**
   * The coordinator of {@code spec} as one job of {@code pool}: it takes the registrations the pool
   * forwards, answers {@link Cancel}, and gives every worker it does not keep back to the pool
   * ({@link WorkerPool.Returned}, {@link WorkerPool.Lost}).
   */
  static Behavior<Object> pooled(
      JobSpec spec,
      CheckpointCatalog catalog,
      ActorRef<JobEvent> listener,
      Optional<X509Certificate> ca,
      ActorRef<Object> pool) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers ->
                    new Coordinator(ctx, timers, spec, catalog, listener, ca, Optional.of(pool))
                        .start()));
  }

  /**
   * Says no to {@code m}, which asked for a place the job does not have: a worker of the pool goes
   * back to it (it never left it), a worker of a single job is refused and exits.
   */
  private void turnAway(Register m, String reason) {
    if (pool.isPresent()) {
      pool.get().tell(new WorkerPool.Returned(spec.job(), m, false));
    } else {
      m.worker().tell(new WorkerProtocol.RegistrationRefused(m.workerId(), reason));
    }
  }

  /** Drops worker {@code id} from the job (lost, or not to be trusted); the pool hears of it. */
  private void forget(String id) {
    Optional<Register> gone = registered.get(id);
    registered.remove(id);
    if (pool.isPresent() && gone.isPresent()) {
      pool.get().tell(new WorkerPool.Lost(spec.job(), gone.get()));
    }
  }

  /** Ends the job for {@code r}: a worker of the pool goes back to it once it stopped. */
  private void releaseWorker(Register r, boolean succeeded, String reason) {
    r.worker().tell(new WorkerProtocol.Release(spec.job(), generation, succeeded, reason));
    pool.ifPresent(p -> p.tell(new WorkerPool.Returned(spec.job(), r, true)));
  }

  private Behavior<Object> onCancel(Cancel m) {
    return fail(FailureReason.CANCELLED, "cancelled: " + m.reason());
  }

  /** Whether the node of {@code r} is still up and reachable ({@link Registrations#alive}). */
  private boolean alive(Register r) {
    return Registrations.alive(ctx.getSystem(), r);
  }

  /**
   * Answers a registration that is refused or must wait; true when {@code admission} was one of
   * those, so the caller is done with it.
   */
  private boolean refusedOrDeferred(Register m, Registrations.Admission admission) {
    if (admission instanceof Registrations.Refused refused) {
      ctx.getLog().warn("job {}: {}", spec.job(), refused.reason());
      m.worker().tell(new WorkerProtocol.RegistrationRefused(m.workerId(), refused.reason()));
      return true;
    }
    if (admission instanceof Registrations.Occupied occupied) {
      String reason =
          "worker "
              + m.workerId()
              + " is registered and alive at "
              + occupied.earlier().worker().path().address()
              + " (exchange "
              + occupied.earlier().host()
              + ":"
              + occupied.earlier().exchangePort()
              + "); a second process under its id does not replace it while it lives";
      ctx.getLog()
          .warn("job {}: registration from {} deferred: {}", spec.job(), m.worker().path(), reason);
      if (pool.isPresent()) {
        // The pool asks again once the earlier incarnation is gone.
        pool.get().tell(new WorkerPool.Returned(spec.job(), m, false));
      } else {
        m.worker().tell(new WorkerProtocol.RegistrationDeferred(m.workerId(), reason));
      }
      return true;
    }
    return false;
  }

  /** This actor as its workers address it. */
  private ActorRef<Command> self() {
    return ctx.getSelf().narrow();
  }

  private Behavior<Object> start() {
    if (pool.isEmpty()) {
      ctx.getSystem().receptionist().tell(Receptionist.register(SERVICE_KEY, self()));
    }
    if (ClusterNodes.clustered(ctx.getSystem())) {
      Cluster cluster = Cluster.get(ctx.getSystem());
      cluster
          .subscriptions()
          .tell(
              Subscribe.create(
                  ctx.messageAdapter(
                      ClusterEvent.MemberRemoved.class,
                      e -> new MemberGone(e.member().address(), "removed from the cluster", false)),
                  ClusterEvent.MemberRemoved.class));
      cluster
          .subscriptions()
          .tell(
              Subscribe.create(
                  ctx.messageAdapter(
                      ClusterEvent.UnreachableMember.class,
                      e -> new MemberGone(e.member().address(), "unreachable", true)),
                  ClusterEvent.UnreachableMember.class));
    }
    timers.startSingleTimer(FORMATION_TIMER, FormationDeadline.INSTANCE, spec.formTimeout());
    ctx.getLog()
        .info(
            "job {} generation {}: waiting for {} workers (at least {}) for up to {}",
            spec.job(),
            generation,
            spec.workers(),
            spec.minWorkers(),
            spec.formTimeout());
    return forming();
  }

  // ---- forming: waiting for registrations ----

  private Behavior<Object> forming() {
    return Behaviors.receive(Object.class)
        .onMessage(Register.class, this::onRegisterWhileForming)
        .onMessage(Stopped.class, this::onStopped)
        .onMessage(WorkerTerminated.class, m -> onLostWhileForming(m.worker(), "its actor stopped"))
        .onMessage(MemberGone.class, this::onMemberGoneWhileForming)
        .onMessage(FormationDeadline.class, m -> onFormationDeadline())
        .onMessage(StepReport.class, m -> ignore("step report", m.generation(), m.step()))
        .onMessage(RankDone.class, m -> ignore("done report", m.generation(), m.step()))
        .onMessage(RankFailed.class, m -> ignore("failure report", m.generation(), m.step()))
        .onMessage(StepDeadline.class, m -> Behaviors.same())
        .onMessage(Cancel.class, this::onCancel)
        .build();
  }

  private Behavior<Object> onRegisterWhileForming(Register m) {
    Registrations.Admission admission = registered.admit(m, spec.workers(), this::alive);
    if (refusedOrDeferred(m, admission)) {
      return Behaviors.same();
    }
    if (admission instanceof Registrations.Again) {
      m.worker().tell(new WorkerProtocol.Registered(spec.job(), m.workerId(), self()));
      return Behaviors.same();
    }
    if (admission instanceof Registrations.Full) {
      turnAway(m, "job " + spec.job() + " already has " + spec.workers() + " workers");
      return Behaviors.same();
    }
    if (admission instanceof Registrations.Restarted restarted) {
      ctx.getLog()
          .warn(
              "job {} generation {}: worker {} registered again from {}; replacing {}",
              spec.job(),
              generation,
              m.workerId(),
              m.worker().path(),
              restarted.earlier().worker().path());
      ctx.unwatch(restarted.earlier().worker());
      // The old incarnation is gone (a restarted process reuses its id): nothing to wait for.
      stopping.remove(m.workerId());
    }
    registered.put(m);
    ctx.watchWith(m.worker(), new WorkerTerminated(m.workerId(), m.worker()));
    m.worker().tell(new WorkerProtocol.Registered(spec.job(), m.workerId(), self()));
    ctx.getLog()
        .info(
            "job {} generation {}: worker {} registered (exchange {}:{}, device {}); {}/{}",
            spec.job(),
            generation,
            m.workerId(),
            m.host(),
            m.exchangePort(),
            m.device(),
            registered.size(),
            spec.workers());
    return formIfComplete();
  }

  /** A ring forms as soon as every wanted worker is registered and none still runs an old ring. */
  private Behavior<Object> formIfComplete() {
    return registered.size() == spec.workers() && stopping.isEmpty() ? form() : Behaviors.same();
  }

  private Behavior<Object> onStopped(Stopped m) {
    if (!m.job().equals(spec.job())
        || m.generation() > generation
        || !stopping.remove(m.workerId())) {
      return Behaviors.same();
    }
    ctx.getLog()
        .info(
            "job {} generation {}: worker {} stopped; {} still stopping",
            spec.job(),
            generation,
            m.workerId(),
            stopping.size());
    return formIfComplete();
  }

  /**
   * The coordinator is the cluster's only downing authority (no split-brain resolver): a member it
   * cannot reach is taken out, so the cluster converges and replacements can join. A worker that
   * was only slow finds itself downed, rejoins and is taken back at the next regroup.
   */
  private void takeOut(MemberGone m) {
    if (m.unreachable()) {
      ctx.getLog()
          .warn("job {}: taking unreachable node {} out of the cluster", spec.job(), m.address());
      Cluster.get(ctx.getSystem()).manager().tell(new Down(m.address()));
    }
  }

  private Behavior<Object> onMemberGoneWhileForming(MemberGone m) {
    takeOut(m);
    Optional<Register> lost = registered.byAddress(m.address());
    return lost.isPresent() ? onLostWhileForming(lost.get().worker(), m.how()) : Behaviors.same();
  }

  private Behavior<Object> onLostWhileForming(ActorRef<WorkerProtocol.Command> worker, String how) {
    Optional<Register> lost = registered.byRef(worker);
    if (lost.isEmpty()) {
      return Behaviors.same();
    }
    forget(lost.get().workerId());
    stopping.remove(lost.get().workerId());
    ctx.unwatch(worker);
    bumpGeneration("worker " + lost.get().workerId() + " left before the ring formed: " + how);
    return formIfComplete();
  }

  private Behavior<Object> onFormationDeadline() {
    // A survivor that never confirmed its stop (frozen, or its training thread stuck) cannot be
    // trusted in a new ring: it is dropped, and told so in case it wakes up.
    for (String id : List.copyOf(stopping)) {
      registered
          .get(id)
          .ifPresent(
              r -> {
                r.worker()
                    .tell(
                        new WorkerProtocol.Release(
                            spec.job(),
                            generation,
                            false,
                            "did not confirm its stop within " + spec.regroupTimeout()));
                ctx.unwatch(r.worker());
              });
      forget(id);
      ctx.getLog()
          .warn(
              "job {} generation {}: dropped worker {}: it did not confirm its stop within {}",
              spec.job(),
              generation,
              id,
              spec.regroupTimeout());
    }
    stopping.clear();
    if (registered.size() >= spec.minWorkers()) {
      return form();
    }
    return fail(
        FailureReason.NOT_ENOUGH_WORKERS,
        String.format(
            "only %d of %d workers (at least %d needed) registered within %s",
            registered.size(),
            spec.workers(),
            spec.minWorkers(),
            regrouping ? spec.regroupTimeout() : spec.formTimeout()));
  }

  private Behavior<Object> form() {
    timers.cancel(FORMATION_TIMER);
    Optional<List<RingMember>> formed =
        Ring.form(
            registered.candidates(), spec.minWorkers(), spec.globalBatchFor(registered.size()));
    if (formed.isEmpty()) {
      return fail(
          FailureReason.NOT_ENOUGH_WORKERS,
          String.format(
              "no ring of %d..%d workers divides the batch size %d",
              spec.minWorkers(), registered.size(), spec.globalBatchSize()));
    }
    RestartPoint.Next next = restarts.next();
    if (next instanceof RestartPoint.HistoryLost lost) {
      return fail(
          FailureReason.CHECKPOINTS_LOST,
          String.format(
              "generation %d cannot start: %s; the %d agreed steps would be trained over from"
                  + " step 0, so the job stops (restore the checkpoints and resume, or resume with"
                  + " --restart-from-scratch to set them aside and start over)",
              generation, lost.why(), lost.agreed()));
    }
    ring = formed.get();
    // Under elastic-batch = scale a ring of another size trains a global batch of its own size.
    int batch = spec.globalBatchFor(ring.size());
    startStep = startingPoint((RestartPoint.Start) next);
    steps = new StepAggregator(spec.job(), generation, ring.size(), startStep);
    ranksDone.clear();
    for (RingMember member : ring) {
      registered
          .get(member.workerId())
          .orElseThrow()
          .worker()
          .tell(
              new WorkerProtocol.StartJob(
                  spec.job(),
                  generation,
                  member.rank(),
                  ring,
                  startStep,
                  spec.untilStep(),
                  batch,
                  spec.config(),
                  spec.runDirectory().toString()));
    }
    for (Register r : List.copyOf(registered.all())) {
      if (rankOf(r.workerId()) < 0) {
        releaseWorker(
            r, true, "not needed: the ring of generation " + generation + " has " + ring.size());
        if (pool.isPresent()) {
          // Back in the pool it may serve another job; this one asks for it again if it must.
          registered.remove(r.workerId());
          ctx.unwatch(r.worker());
        }
      }
    }
    timers.startSingleTimer(
        STEP_TIMER, new StepDeadline(generation, startStep - 1), spec.stepTimeout());
    ctx.getLog()
        .info(
            "job {} generation {} step {}: ring formed: {}; training until step {}",
            spec.job(),
            generation,
            startStep,
            describe(ring),
            spec.untilStep());
    listener.tell(
        new JobEvent.RingFormed(spec.job(), generation, ring, startStep, spec.untilStep()));
    return running();
  }

  // ---- running: the ring trains ----

  private Behavior<Object> running() {
    return Behaviors.receive(Object.class)
        .onMessage(Register.class, this::onRegisterWhileRunning)
        .onMessage(StepReport.class, this::onStepReport)
        .onMessage(RankDone.class, this::onRankDone)
        .onMessage(RankFailed.class, this::onRankFailed)
        .onMessage(Stopped.class, m -> Behaviors.same())
        .onMessage(WorkerTerminated.class, m -> onLostWhileRunning(m.worker(), "its actor stopped"))
        .onMessage(MemberGone.class, this::onMemberGoneWhileRunning)
        .onMessage(StepDeadline.class, this::onStepDeadline)
        .onMessage(FormationDeadline.class, m -> Behaviors.same())
        .onMessage(Cancel.class, this::onCancel)
        .build();
  }

  private Behavior<Object> onRegisterWhileRunning(Register m) {
    Registrations.Admission admission = registered.admit(m, spec.workers(), this::alive);
    if (refusedOrDeferred(m, admission)) {
      return Behaviors.same();
    }
    if (admission instanceof Registrations.Again) {
      m.worker().tell(new WorkerProtocol.Registered(spec.job(), m.workerId(), self()));
      return Behaviors.same();
    }
    if (admission instanceof Registrations.Restarted restarted) {
      // Its earlier incarnation is dead, even if the cluster has not noticed yet. The new one
      // takes its place in the next ring.
      ctx.unwatch(restarted.earlier().worker());
      registered.remove(m.workerId());
      accept(m);
      if (rankOf(m.workerId()) >= 0) {
        return regroup(
            String.format(
                "worker %s (rank %d) restarted at step %d",
                m.workerId(), rankOf(m.workerId()), steps.lastAgreed() + 1));
      }
      return Behaviors.same();
    }
    if (admission instanceof Registrations.Full) {
      turnAway(
          m,
          "job "
              + spec.job()
              + " is training with a ring of "
              + ring.size()
              + " at generation "
              + generation);
      return Behaviors.same();
    }
    accept(m);
    ctx.getLog()
        .info(
            "job {} generation {}: worker {} waits to join the ring at the next checkpoint step",
            spec.job(),
            generation,
            m.workerId());
    return Behaviors.same();
  }

  private void accept(Register m) {
    registered.put(m);
    ctx.watchWith(m.worker(), new WorkerTerminated(m.workerId(), m.worker()));
    m.worker().tell(new WorkerProtocol.Registered(spec.job(), m.workerId(), self()));
  }

  private Behavior<Object> onStepReport(StepReport m) {
    if (!current(m.job(), m.generation(), "step report", m.step())
        || !inRing(m.rank(), "step report")) {
      return Behaviors.same();
    }
    StepAggregator.Outcome outcome = steps.add(m);
    if (outcome instanceof StepAggregator.Agreed agreed) {
      long step = agreed.progress().step();
      timers.startSingleTimer(STEP_TIMER, new StepDeadline(generation, step), spec.stepTimeout());
      listener.tell(agreed.progress());
      restarts.agreed(step);
      long done = step + 1;
      if (registered.size() > ring.size()
          && done % spec.checkpointEvery() == 0
          && done < spec.untilStep()) {
        // Rank 0 checkpoints this step; the regroup waits for it to be written, and the new ring
        // starts from it: the standbys join without a step lost.
        return regroup(String.format("%s joining at step %d", String.join(", ", standbys()), done));
      }
    } else if (outcome instanceof StepAggregator.Diverged diverged) {
      return fail(FailureReason.REPLICAS_DIVERGED, diverged.message());
    } else if (outcome instanceof StepAggregator.Rejected rejected) {
      return fail(FailureReason.PROTOCOL, rejected.message());
    }
    return Behaviors.same();
  }

  private Behavior<Object> onRankDone(RankDone m) {
    if (!current(m.job(), m.generation(), "done report", m.step())
        || !inRing(m.rank(), "done report")) {
      return Behaviors.same();
    }
    if (m.step() != spec.untilStep()) {
      return fail(
          FailureReason.PROTOCOL,
          String.format(
              "rank %d reported done at step %d, the job runs until %d",
              m.rank(), m.step(), spec.untilStep()));
    }
    ranksDone.add(m.rank());
    if (ranksDone.size() < ring.size()) {
      return Behaviors.same();
    }
    timers.cancelAll();
    ctx.getLog()
        .info(
            "job {} generation {} step {}: finished; all {} ranks agree",
            spec.job(),
            generation,
            m.step(),
            ring.size());
    release(true, "job finished");
    listener.tell(new JobEvent.JobFinished(spec.job(), generation, m.step()));
    return ended();
  }

  private Behavior<Object> onRankFailed(RankFailed m) {
    if (!current(m.job(), m.generation(), "failure report", m.step())
        || !inRing(m.rank(), "failure report")) {
      return Behaviors.same();
    }
    if (m.inExchange()) {
      // Usually a peer died and its neighbours noticed before the cluster did; the regroup waits
      // for every worker to stop or to be declared lost, so it forms around the dead one.
      return regroup(
          String.format(
              "the gradient exchange of rank %d (%s) failed at step %d: %s",
              m.rank(), ring.get(m.rank()).workerId(), m.step(), m.reason()));
    }
    return fail(
        FailureReason.WORKER_FAILED,
        String.format(
            "rank %d (%s) failed at step %d: %s",
            m.rank(), ring.get(m.rank()).workerId(), m.step(), m.reason()));
  }

  private Behavior<Object> onMemberGoneWhileRunning(MemberGone m) {
    takeOut(m);
    Optional<Register> lost = registered.byAddress(m.address());
    return lost.isPresent() ? onLostWhileRunning(lost.get().worker(), m.how()) : Behaviors.same();
  }

  private Behavior<Object> onLostWhileRunning(ActorRef<WorkerProtocol.Command> worker, String how) {
    Optional<Register> lost = registered.byRef(worker);
    if (lost.isEmpty()) {
      return Behaviors.same();
    }
    forget(lost.get().workerId());
    ctx.unwatch(worker);
    int rank = rankOf(lost.get().workerId());
    if (rank < 0) {
      ctx.getLog()
          .warn(
              "job {} generation {}: standby worker {} lost: {}",
              spec.job(),
              generation,
              lost.get().workerId(),
              how);
      return Behaviors.same();
    }
    return regroup(
        String.format(
            "worker %s (rank %d, exchange %s) lost at step %d: %s",
            lost.get().workerId(),
            rank,
            ring.get(rank).exchangeAddress(),
            steps.lastAgreed() + 1,
            how));
  }

  /**
   * Dissolves the ring under a new generation: every registered worker is told to abort, and the
   * next ring forms once all of them confirmed their stop (or were lost, or the regroup deadline
   * passed), from the newest complete checkpoint.
   */
  private Behavior<Object> regroup(String why) {
    if (!restarts.mayRegroup()) {
      return fail(
          FailureReason.NO_PROGRESS,
          String.format(
              "%d regroups in a row without a completed step (scoreflow.cluster.max-regroups);"
                  + " the last: %s",
              restarts.regroupsWithoutProgress(), why));
    }
    timers.cancel(STEP_TIMER);
    bumpGeneration(why);
    regrouping = true;
    stopping.clear();
    for (Register r : registered.all()) {
      r.worker().tell(new WorkerProtocol.Abort(spec.job(), generation, why));
      stopping.add(r.workerId());
    }
    timers.startSingleTimer(FORMATION_TIMER, FormationDeadline.INSTANCE, spec.regroupTimeout());
    ctx.getLog()
        .info(
            "job {} generation {}: waiting for {} workers to stop and for {} workers in all (at"
                + " least {}) for up to {}",
            spec.job(),
            generation,
            stopping.size(),
            spec.workers(),
            spec.minWorkers(),
            spec.regroupTimeout());
    return forming();
  }

  /** Where the next ring starts ({@link RestartPoint#next()}), warning when past the agreed. */
  private long startingPoint(RestartPoint.Start start) {
    if (start.unagreed()) {
      ctx.getLog()
          .warn(
              "job {} generation {}: no checkpoint at or before step {} (agreed by every rank)"
                  + " is left; starting from step {}, whose last steps no rank reported",
              spec.job(),
              generation,
              start.agreed(),
              start.step());
    }
    return start.step();
  }

  private List<String> standbys() {
    List<String> out = new ArrayList<>();
    for (Register r : registered.all()) {
      if (rankOf(r.workerId()) < 0) {
        out.add(r.workerId());
      }
    }
    return out;
  }

  private Behavior<Object> onStepDeadline(StepDeadline m) {
    if (m.generation() != generation || m.lastAgreedStep() != steps.lastAgreed()) {
      return Behaviors.same();
    }
    String since =
        m.lastAgreedStep() < startStep
            ? "of the ring forming (its first step is " + startStep + ")"
            : "after step " + m.lastAgreedStep();
    return fail(
        FailureReason.STALLED,
        String.format(
            "no step completed by every rank within %s %s; raise scoreflow.cluster.step-timeout"
                + " if steps are this slow",
            spec.stepTimeout(), since));
  }

  // ---- ended: finished or failed ----

  private Behavior<Object> ended() {
    return Behaviors.receive(Object.class)
        .onMessage(Register.class, this::onRegisterWhenOver)
        .onMessage(
            MemberGone.class,
            m -> {
              takeOut(m);
              return Behaviors.same();
            })
        .onAnyMessage(m -> Behaviors.same())
        .build();
  }

  private Behavior<Object> onRegisterWhenOver(Register m) {
    turnAway(m, "job " + spec.job() + " is over");
    return Behaviors.same();
  }

  private Behavior<Object> fail(FailureReason reason, String message) {
    timers.cancelAll();
    long step = steps == null ? 0 : steps.lastAgreed() + 1;
    ctx.getLog()
        .error(
            "job {} generation {} step {}: failed ({}): {}",
            spec.job(),
            generation,
            step,
            reason,
            message);
    release(false, message);
    listener.tell(new JobEvent.JobFailed(spec.job(), generation, reason, message));
    return ended();
  }

  private void release(boolean succeeded, String reason) {
    for (Register r : registered.all()) {
      releaseWorker(r, succeeded, reason);
      ctx.unwatch(r.worker());
    }
  }

  private void bumpGeneration(String why) {
    generation++;
    ctx.getLog().warn("job {} generation {}: new generation: {}", spec.job(), generation, why);
    listener.tell(new JobEvent.GenerationChanged(spec.job(), generation, why));
  }

  private boolean current(String job, long messageGeneration, String what, long step) {
    if (job.equals(spec.job()) && messageGeneration == generation) {
      return true;
    }
    ctx.getLog()
        .warn(
            "job {} generation {}: refused a {} of job {} generation {} step {}",
            spec.job(),
            generation,
            what,
            job,
            messageGeneration,
            step);
    return false;
  }

  /**
   * Whether {@code rank} is a rank of the current ring. A report for any other comes from no member
   * (a broken or hostile node): it is dropped, it neither fails the job nor counts.
   */
  private boolean inRing(int rank, String what) {
    if (rank >= 0 && rank < ring.size()) {
      return true;
    }
    ctx.getLog()
        .warn(
            "job {} generation {}: dropped a {} of rank {}: the ring has ranks 0..{}",
            spec.job(),
            generation,
            what,
            rank,
            ring.size() - 1);
    return false;
  }

  private Behavior<Object> ignore(String what, long messageGeneration, long step) {
    ctx.getLog()
        .warn(
            "job {} generation {}: ignored a {} of generation {} step {}: no ring is formed",
            spec.job(),
            generation,
            what,
            messageGeneration,
            step);
    return Behaviors.same();
  }

  private int rankOf(String workerId) {
    for (RingMember m : ring) {
      if (m.workerId().equals(workerId)) {
        return m.rank();
      }
    }
    return -1;
  }

  private static String describe(List<RingMember> ring) {
    List<String> parts = new ArrayList<>();
    for (RingMember m : ring) {
      parts.add(m.rank() + "=" + m.workerId() + "@" + m.exchangeAddress());
    }
    return String.join(", ", parts);
  }
}
