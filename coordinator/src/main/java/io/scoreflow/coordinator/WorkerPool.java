package io.scoreflow.coordinator;

import static io.scoreflow.proto.cluster.CoordinatorProtocol.SERVICE_KEY;

import io.scoreflow.proto.cluster.CoordinatorProtocol;
import io.scoreflow.proto.cluster.CoordinatorProtocol.Register;
import io.scoreflow.proto.cluster.PoolProtocol;
import io.scoreflow.proto.cluster.WorkerProtocol;
import java.security.cert.X509Certificate;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.TreeMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * Many jobs over one set of workers. Workers register with the pool (it is what the receptionist
 * lists); it keeps them idle ({@link WorkerProtocol.Pooled}) until a job needs them. Jobs wait in a
 * queue, highest priority first and first come first served within a priority, and start once
 * {@link JobSpec#workers()} workers are idle; each runs under a {@link Coordinator} of its own (its
 * ring, generations, checkpoints and events are its own), to which the pool forwards the
 * registrations of the workers it places there.
 *
 * <p>A running job that has fewer workers than it wants (one died, or it shrank) gets idle workers
 * before any queued job starts: it is replaced from the pool before it has to shrink, and a shrunk
 * job grows back at its next checkpoint step. Workers a job does not keep come back ({@link
 * Returned}); a finished, failed or cancelled job gives all of its workers back.
 *
 * <p>How many of a job's workers the pool counts is its own bookkeeping (placed and not returned or
 * lost), never a job's word: a job is handed at most the difference to what it wants.
 */
public final class WorkerPool {

  /** A job to run: queued until its workers are idle. */
  public record Submit(
      JobSpec spec, CheckpointCatalog catalog, int priority, Map<String, Behavior<?>> actors) {
    public Submit {
      actors = Map.copyOf(actors);
    }
  }

  /** Cancel {@code job}: a queued one never starts, a running one fails as cancelled. */
  public record Cancel(String job, String reason) {}

  /** Release every worker of the pool (they exit); the sweep is over. */
  public record Close(String reason) {}

  /**
   * A job's coordinator does not keep {@code worker}: back to the pool. {@code wasAccepted}: the
   * job had accepted it (it was told it is released, and registers with the pool again once it
   * stopped); otherwise it is still idle and can go elsewhere at once.
   */
  record Returned(String job, Register worker, boolean wasAccepted) {}

  /** A job's coordinator lost {@code worker} (dead, unreachable, dropped). */
  record Lost(String job, Register worker) {}

  private record EventOf(JobEvent event) {}

  private record WorkerTerminated(String workerId, ActorRef<WorkerProtocol.Command> worker) {}

  /** A running job: its coordinator and what it wants. */
  private record Running(JobSpec spec, ActorRef<Object> coordinator) {}

  private record Queued(Submit submit, long order) {}

  private final ActorContext<Object> ctx;
  private final String name;
  private final ActorRef<JobEvent> listener;
  private final Optional<X509Certificate> ca;

  /** Every worker the pool knows, by id: the latest incarnation, checked as a job checks it. */
  private final Registrations known;

  /** Idle workers, by id (placed in id order, so runs are reproducible). */
  private final Map<String, Register> idle = new TreeMap<>();

  /** Which job each placed worker is at; absent: idle, or on its way back. */
  private final Map<String, String> placement = new HashMap<>();

  private final Map<String, Running> running = new LinkedHashMap<>();
  private final PriorityQueue<Queued> queue =
      new PriorityQueue<>(
          Comparator.comparingInt((Queued q) -> -q.submit().priority())
              .thenComparingLong(Queued::order));
  private long submitted;

  /** Why the pool closed (null: it is open); a worker registering after that is released. */
  private String closing;

  private final ActorRef<JobEvent> events;

  /** Who follows each job (sweeps that submitted it from elsewhere), told its progress. */
  private final Map<String, java.util.Set<ActorRef<PoolProtocol.Update>>> followers =
      new HashMap<>();

  /**
   * The newest generation each job name reached on this pool's workers. A worker fences its
   * exchange by (job, generation) against its last ring: a new run under a name its workers served
   * (another sweep's directory) must start after that generation, not at its journal's.
   */
  private final Map<String, Long> newestGeneration = new HashMap<>();

  /** When each followed job's progress was last sent (nanoTime), to send about once a second. */
  private final Map<String, Long> lastStepSent = new HashMap<>();

  private WorkerPool(
      ActorContext<Object> ctx,
      String name,
      ActorRef<JobEvent> listener,
      Optional<X509Certificate> ca) {
    this.ctx = ctx;
    this.name = name;
    this.listener = listener;
    this.ca = ca;
    this.known = new Registrations(ca);
    this.events = ctx.messageAdapter(JobEvent.class, EventOf::new);
  }

  /**
   * The pool {@code name}; {@code listener} hears every job's events. With the CA {@code ca}, a
   * registration counts only when signed by the certificate of the worker id it claims.
   */
  public static Behavior<Object> create(
      String name, ActorRef<JobEvent> listener, Optional<X509Certificate> ca) {
    return Behaviors.setup(
        ctx -> {
          ctx.getSystem()
              .receptionist()
              .tell(
                  Receptionist.register(
                      SERVICE_KEY, ctx.getSelf().<CoordinatorProtocol.Command>narrow()));
          return new WorkerPool(ctx, name, listener, ca).behavior();
        });
  }

  private Behavior<Object> behavior() {
    return Behaviors.receive(Object.class)
        .onMessage(Register.class, this::onRegister)
        .onMessage(Submit.class, this::onSubmit)
        .onMessage(Cancel.class, this::onCancel)
        .onMessage(Returned.class, this::onReturned)
        .onMessage(Lost.class, this::onLost)
        .onMessage(EventOf.class, this::onEvent)
        .onMessage(WorkerTerminated.class, this::onTerminated)
        .onMessage(Close.class, this::onClose)
        .onMessage(PoolProtocol.SubmitJob.class, this::onSubmitJob)
        .onMessage(PoolProtocol.CancelJob.class, this::onCancelJob)
        .onMessage(PoolProtocol.Status.class, this::onStatus)
        .onAnyMessage(
            m -> {
              ctx.getLog().warn("pool {}: ignored {}", name, m.getClass().getSimpleName());
              return Behaviors.same();
            })
        .build();
  }

  private ActorRef<CoordinatorProtocol.Command> self() {
    return ctx.getSelf().narrow();
  }

  private Behavior<Object> onRegister(Register m) {
    if (closing != null) {
      // A worker that (re)started after the pool closed: it is released like the others were.
      m.worker().tell(new WorkerProtocol.Release(name, 0, true, closing));
      return Behaviors.same();
    }
    Registrations.Admission admission = known.admit(m, Integer.MAX_VALUE, this::alive);
    if (admission instanceof Registrations.Refused refused) {
      ctx.getLog().warn("pool {}: {}", name, refused.reason());
      m.worker().tell(new WorkerProtocol.RegistrationRefused(m.workerId(), refused.reason()));
      return Behaviors.same();
    }
    if (admission instanceof Registrations.Occupied occupied) {
      m.worker()
          .tell(
              new WorkerProtocol.RegistrationDeferred(
                  m.workerId(),
                  "worker "
                      + m.workerId()
                      + " is in the pool and alive at "
                      + occupied.earlier().worker().path().address()));
      return Behaviors.same();
    }
    if (admission instanceof Registrations.Again && placement.containsKey(m.workerId())) {
      // Released by its job and registering again before the job's word reached the pool: its
      // next registration (it repeats until answered) finds it back.
      return Behaviors.same();
    }
    if (admission instanceof Registrations.Restarted restarted) {
      // A new process under a known id: the old one is dead. Its job notices that by itself.
      ctx.unwatch(restarted.earlier().worker());
      placement.remove(m.workerId());
    }
    if (!(admission instanceof Registrations.Again)) {
      known.put(m);
      ctx.watchWith(m.worker(), new WorkerTerminated(m.workerId(), m.worker()));
      ctx.getLog()
          .info("pool {}: worker {} is in the pool ({} known)", name, m.workerId(), known.size());
    }
    idle.put(m.workerId(), m);
    m.worker().tell(new WorkerProtocol.Pooled(name, m.workerId(), self()));
    return schedule();
  }

  private boolean alive(Register r) {
    return Registrations.alive(ctx.getSystem(), r);
  }

  private Behavior<Object> onSubmit(Submit m) {
    String job = m.spec().job();
    boolean taken =
        running.containsKey(job)
            || queue.stream().anyMatch(q -> q.submit().spec().job().equals(job));
    if (taken) {
      listener.tell(
          new JobEvent.JobFailed(
              job, 0, FailureReason.PROTOCOL, "a job named " + job + " is already in the pool"));
      return Behaviors.same();
    }
    queue.add(new Queued(m, submitted++));
    listener.tell(
        new JobEvent.JobQueued(
            job, m.spec().firstGeneration(), m.spec().runDirectory(), m.priority()));
    ctx.getLog()
        .info(
            "pool {}: job {} queued (priority {}, {} workers; {} queued, {} running)",
            name,
            job,
            m.priority(),
            m.spec().workers(),
            queue.size(),
            running.size());
    return schedule();
  }

  private Behavior<Object> onCancel(Cancel m) {
    Running r = running.get(m.job());
    if (r != null) {
      r.coordinator().tell(new Coordinator.Cancel(m.reason()));
      return Behaviors.same();
    }
    if (queue.removeIf(q -> q.submit().spec().job().equals(m.job()))) {
      JobEvent.JobFailed failed =
          new JobEvent.JobFailed(
              m.job(), 0, FailureReason.CANCELLED, "cancelled before it started: " + m.reason());
      listener.tell(failed);
      tellFollowers(failed);
    }
    return Behaviors.same();
  }

  private Behavior<Object> onReturned(Returned m) {
    String id = m.worker().workerId();
    if (!m.job().equals(placement.get(id))) {
      return Behaviors.same();
    }
    placement.remove(id);
    Optional<Register> current = known.get(id);
    if (!m.wasAccepted()
        && current.isPresent()
        && current.get().worker().equals(m.worker().worker())) {
      idle.put(id, current.get());
    }
    return schedule();
  }

  private Behavior<Object> onLost(Lost m) {
    String id = m.worker().workerId();
    Optional<Register> current = known.get(id);
    // A newer incarnation placed meanwhile keeps its place: only the lost one's is freed.
    boolean same = current.isEmpty() || current.get().worker().equals(m.worker().worker());
    if (same && m.job().equals(placement.get(id))) {
      placement.remove(id);
    }
    return schedule();
  }

  private Behavior<Object> onTerminated(WorkerTerminated m) {
    Optional<Register> current = known.get(m.workerId());
    if (current.isPresent() && current.get().worker().equals(m.worker())) {
      known.remove(m.workerId());
      idle.remove(m.workerId());
      placement.remove(m.workerId());
      ctx.getLog().warn("pool {}: worker {} is gone", name, m.workerId());
    }
    return schedule();
  }

  private Behavior<Object> onEvent(EventOf m) {
    JobEvent e = m.event();
    listener.tell(e);
    tellFollowers(e);
    newestGeneration.merge(e.job(), e.generation(), Math::max);
    if (e instanceof JobEvent.JobFinished || e instanceof JobEvent.JobFailed) {
      if (running.remove(e.job()) != null) {
        ctx.getLog().info("pool {}: job {} is over ({} queued)", name, e.job(), queue.size());
      }
    }
    return schedule();
  }

  /**
   * Places idle workers: first with running jobs short of workers (in the order they started),
   * then, while the first queued job's workers are idle, starts it.
   */
  private Behavior<Object> schedule() {
    for (Running r : running.values()) {
      int missing = r.spec().workers() - placedAt(r.spec().job());
      while (missing-- > 0 && !idle.isEmpty()) {
        place(idle.keySet().iterator().next(), r);
      }
    }
    while (!queue.isEmpty() && idle.size() >= queue.peek().submit().spec().workers()) {
      start(queue.poll().submit());
    }
    return Behaviors.same();
  }

  private int placedAt(String job) {
    int n = 0;
    for (String j : placement.values()) {
      n += j.equals(job) ? 1 : 0;
    }
    return n;
  }

  private void place(String workerId, Running r) {
    Register worker = idle.remove(workerId);
    placement.put(workerId, r.spec().job());
    r.coordinator().tell(worker);
  }

  private void start(Submit queued) {
    long after = newestGeneration.getOrDefault(queued.spec().job(), 0L);
    Submit s =
        after < queued.spec().firstGeneration()
            ? queued
            : new Submit(
                queued.spec().startingAtGeneration(after + 1),
                queued.catalog(),
                queued.priority(),
                queued.actors());
    String job = s.spec().job();
    long n = submitted;
    String suffix = job.replaceAll("[^A-Za-z0-9_-]", "_") + "-" + running.size() + "-" + n;
    ActorRef<Object> coordinator =
        ctx.spawn(
            Coordinator.pooled(s.spec(), s.catalog(), events, ca, ctx.getSelf()), "job-" + suffix);
    s.actors().forEach((actor, behavior) -> ctx.spawn(behavior, actor + "-" + suffix));
    Running r = new Running(s.spec(), coordinator);
    running.put(job, r);
    ctx.getLog()
        .info(
            "pool {}: job {} starts on {} of {} idle workers",
            name,
            job,
            s.spec().workers(),
            idle.size());
    for (int k = 0; k < s.spec().workers(); k++) {
      place(idle.keySet().iterator().next(), r);
    }
  }

  // ---- requests of sweeps running elsewhere (PoolProtocol) ----

  private Behavior<Object> onSubmitJob(PoolProtocol.SubmitJob m) {
    Optional<String> refusal =
        unproven(
            m.certificate(),
            m.signature(),
            PoolProtocol.SubmitJob.statement(
                m.job(), m.config(), m.runDirectory(), m.untilStep(), m.workers(), m.priority()));
    if (refusal.isPresent()) {
      return refuse(m.replyTo(), m.job(), "submit", refusal.get());
    }
    if (holds(m.job())) {
      follow(m.job(), m.replyTo());
      m.replyTo().tell(new PoolProtocol.Accepted(m.job(), true));
      return Behaviors.same();
    }
    java.util.OptionalLong finished = RemoteSubmission.finishedStep(m);
    if (finished.isPresent() && finished.getAsLong() >= m.untilStep()) {
      // It finished after the sweep looked (a sweep started again while it ran): not again.
      m.replyTo().tell(new PoolProtocol.Accepted(m.job(), true));
      m.replyTo().tell(new PoolProtocol.Finished(m.job(), finished.getAsLong()));
      return Behaviors.same();
    }
    Submit submit;
    try {
      submit = RemoteSubmission.of(m);
    } catch (RuntimeException e) {
      return refuse(m.replyTo(), m.job(), "submit", e.getMessage());
    }
    follow(m.job(), m.replyTo());
    m.replyTo().tell(new PoolProtocol.Accepted(m.job(), false));
    return onSubmit(submit);
  }

  private Behavior<Object> onCancelJob(PoolProtocol.CancelJob m) {
    Optional<String> refusal =
        unproven(
            m.certificate(), m.signature(), PoolProtocol.CancelJob.statement(m.job(), m.reason()));
    if (refusal.isPresent()) {
      return refuse(m.replyTo(), m.job(), "cancel", refusal.get());
    }
    if (!holds(m.job())) {
      return refuse(m.replyTo(), m.job(), "cancel", "pool " + name + " has no job " + m.job());
    }
    m.replyTo().tell(new PoolProtocol.Accepted(m.job(), true));
    return onCancel(new Cancel(m.job(), m.reason()));
  }

  private Behavior<Object> onStatus(PoolProtocol.Status m) {
    java.util.List<String> queued =
        queue.stream().sorted(queue.comparator()).map(q -> q.submit().spec().job()).toList();
    m.replyTo()
        .tell(
            new PoolProtocol.PoolState(
                name, queued, java.util.List.copyOf(running.keySet()), idle.size(), known.size()));
    return Behaviors.same();
  }

  /**
   * Why a request signed by {@code certificate} is not the operator's, or empty when it is. Over
   * mutual TLS only the holder of the coordinator's certificate may change the queue (a worker
   * certificate cannot); plaintext pools check nothing.
   */
  private Optional<String> unproven(byte[] certificate, byte[] signature, String statement) {
    if (ca.isEmpty()) {
      return Optional.empty();
    }
    io.scoreflow.security.NodeProof.Verified v =
        new io.scoreflow.security.NodeProof(certificate, signature).verify(ca.get(), statement);
    if (v.identity().isEmpty()) {
      return Optional.of("the request is refused: " + v.refusal());
    }
    if (v.identity().get().role() != io.scoreflow.security.NodeIdentity.Role.COORDINATOR) {
      return Optional.of(
          "the request is refused: it is signed by "
              + v.identity().get().uri()
              + "; only the coordinator's certificate may submit or cancel jobs");
    }
    return Optional.empty();
  }

  private Behavior<Object> refuse(
      ActorRef<PoolProtocol.Update> replyTo, String job, String what, String reason) {
    ctx.getLog().warn("pool {}: {} of job {} refused: {}", name, what, job, reason);
    replyTo.tell(new PoolProtocol.Refused(job, reason));
    return Behaviors.same();
  }

  /** Whether {@code job} is queued or running here. */
  private boolean holds(String job) {
    return running.containsKey(job)
        || queue.stream().anyMatch(q -> q.submit().spec().job().equals(job));
  }

  private void follow(String job, ActorRef<PoolProtocol.Update> follower) {
    followers.computeIfAbsent(job, j -> new java.util.LinkedHashSet<>()).add(follower);
  }

  /**
   * Tells the followers of {@code e}'s job what it means for them; forgets them when it is over.
   */
  private void tellFollowers(JobEvent e) {
    java.util.Set<ActorRef<PoolProtocol.Update>> to = followers.get(e.job());
    if (to == null) {
      return;
    }
    PoolProtocol.Update update = null;
    if (e instanceof JobEvent.RingFormed r) {
      update = new PoolProtocol.Started(e.job(), r.generation(), r.ring().size(), r.startStep());
    } else if (e instanceof JobEvent.StepProgress p) {
      long now = System.nanoTime();
      Long last = lastStepSent.get(e.job());
      if (last == null || now - last > 1_000_000_000L) {
        lastStepSent.put(e.job(), now);
        update = new PoolProtocol.Stepped(e.job(), p.step(), p.meanLoss());
      }
    } else if (e instanceof JobEvent.GenerationChanged g) {
      update = new PoolProtocol.Regrouped(e.job(), g.why());
    } else if (e instanceof JobEvent.JobFinished f) {
      update = new PoolProtocol.Finished(e.job(), f.step());
    } else if (e instanceof JobEvent.JobFailed f) {
      update = new PoolProtocol.Failed(e.job(), f.reason().name(), f.message());
    }
    if (update != null) {
      for (ActorRef<PoolProtocol.Update> f : to) {
        f.tell(update);
      }
    }
    if (e instanceof JobEvent.JobFinished || e instanceof JobEvent.JobFailed) {
      followers.remove(e.job());
      lastStepSent.remove(e.job());
    }
  }

  private Behavior<Object> onClose(Close m) {
    closing = m.reason();
    for (Running r : running.values()) {
      r.coordinator().tell(new Coordinator.Cancel(m.reason()));
    }
    for (Register r : known.all()) {
      r.worker().tell(new WorkerProtocol.Release(name, 0, true, m.reason()));
    }
    return Behaviors.same();
  }
}
