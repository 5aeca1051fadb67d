package io.scoreflow.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoreflow.config.Configs;
import io.scoreflow.proto.cluster.CoordinatorProtocol;
import io.scoreflow.proto.cluster.PoolProtocol;
import io.scoreflow.proto.cluster.WorkerProtocol;
import io.scoreflow.run.RunDirectory;
import io.scoreflow.security.JobCa;
import io.scoreflow.security.NodeIdentity;
import io.scoreflow.security.NodeProof;
import io.scoreflow.security.TlsMaterial;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pool's placement rules, with probes for workers and the real per-job coordinators. */
class WorkerPoolTest extends CoordinatorFixture {

  private static JobSpec job(String name, int workers) {
    return spec(name, workers, workers);
  }

  private void submit(ActorRef<Object> pool, String name, int priority) {
    pool.tell(
        new WorkerPool.Submit(job(name, 1), new Checkpoints(new TreeSet<>()), priority, Map.of()));
  }

  private TestProbe<WorkerProtocol.Command> pooled(ActorRef<Object> pool, String id) {
    TestProbe<WorkerProtocol.Command> probe = kit.createTestProbe();
    register(pool, id, probe);
    assertEquals(id, probe.expectMessageClass(WorkerProtocol.Pooled.class, WAIT).workerId());
    return probe;
  }

  private static void register(
      ActorRef<Object> pool, String id, TestProbe<WorkerProtocol.Command> probe) {
    pool.tell(new CoordinatorProtocol.Register(id, "127.0.0.1", 7000, "cpu", probe.ref()));
  }

  /** The job that took {@code worker}: it says so with {@code Registered}, then starts it. */
  private static String placedIn(TestProbe<WorkerProtocol.Command> worker) {
    String job = worker.expectMessageClass(WorkerProtocol.Registered.class, WAIT).job();
    assertEquals(job, worker.expectMessageClass(WorkerProtocol.StartJob.class, WAIT).job());
    return job;
  }

  /** The next failure among a job's events (rings and steps come first). */
  private static JobEvent.JobFailed failure(TestProbe<JobEvent> events) {
    while (true) {
      if (events.receiveMessage(WAIT) instanceof JobEvent.JobFailed f) {
        return f;
      }
    }
  }

  @Test
  void highestPriorityFirstThenFirstComeAndACancelledJobFreesItsWorkerForTheNext() {
    TestProbe<JobEvent> events = kit.createTestProbe();
    ActorRef<Object> pool = kit.spawn(WorkerPool.create("p1", events.ref(), Optional.empty()));
    submit(pool, "low", 0);
    submit(pool, "mid", 0);
    submit(pool, "high", 5);

    TestProbe<WorkerProtocol.Command> a = pooled(pool, "worker-000");
    assertEquals("high", placedIn(a));
    TestProbe<WorkerProtocol.Command> b = pooled(pool, "worker-001");
    assertEquals("low", placedIn(b));

    pool.tell(new WorkerPool.Cancel("high", "by the test"));
    WorkerProtocol.Release release = a.expectMessageClass(WorkerProtocol.Release.class, WAIT);
    assertEquals("high", release.job());
    assertFalse(release.succeeded());
    JobEvent.JobFailed failed = failure(events);
    assertEquals(FailureReason.CANCELLED, failed.reason());
    // The released worker stops, registers with the pool again, and the queued job takes it.
    register(pool, "worker-000", a);
    a.expectMessageClass(WorkerProtocol.Pooled.class, WAIT);
    assertEquals("mid", placedIn(a));
  }

  @Test
  void aQueuedJobCancelledNeverStarts() {
    TestProbe<JobEvent> events = kit.createTestProbe();
    ActorRef<Object> pool = kit.spawn(WorkerPool.create("p2", events.ref(), Optional.empty()));
    submit(pool, "first", 0);
    submit(pool, "second", 0);
    pool.tell(new WorkerPool.Cancel("first", "changed my mind"));
    assertEquals("first", failure(events).job());
    TestProbe<WorkerProtocol.Command> a = pooled(pool, "worker-000");
    assertEquals("second", placedIn(a));
  }

  @Test
  void aRunningJobShortOfAWorkerGetsTheIdleOneBeforeAQueuedJobStarts() {
    TestProbe<JobEvent> events = kit.createTestProbe();
    ActorRef<Object> pool = kit.spawn(WorkerPool.create("p3", events.ref(), Optional.empty()));
    pool.tell(new WorkerPool.Submit(job("pair", 2), new Checkpoints(new TreeSet<>()), 0, Map.of()));
    submit(pool, "waiting", 0);
    TestProbe<WorkerProtocol.Command> a = pooled(pool, "worker-000");
    TestProbe<WorkerProtocol.Command> b = pooled(pool, "worker-001");
    assertEquals("pair", placedIn(a));
    assertEquals("pair", placedIn(b));
    // worker-001 dies: its job regroups and the next idle worker goes to it, not to "waiting".
    b.stop();
    a.expectMessageClass(WorkerProtocol.Abort.class, WAIT);
    TestProbe<WorkerProtocol.Command> c = pooled(pool, "worker-002");
    assertEquals("pair", c.expectMessageClass(WorkerProtocol.Registered.class, WAIT).job());
  }

  /**
   * A sweep's request signed by {@code signer} (null: unsigned) for {@code job} into {@code dir}.
   */
  private static PoolProtocol.SubmitJob submitJob(
      String job, Path dir, long steps, TlsMaterial signer, ActorRef<PoolProtocol.Update> sweep) {
    String config =
        RunDirectory.render(
            Configs.load(
                "quick-cpu", List.of("scoreflow.job.name=" + job, "scoreflow.train.batch-size=8")));
    NodeProof proof =
        signer == null
            ? NodeProof.none()
            : NodeProof.sign(
                signer, PoolProtocol.SubmitJob.statement(job, config, dir.toString(), steps, 1, 0));
    return new PoolProtocol.SubmitJob(
        job, config, dir.toString(), steps, 1, 0, proof.certificate(), proof.signature(), sweep);
  }

  @Test
  void overTlsOnlyTheCoordinatorsCertificateSubmitsAndTheRunDirectoryMustBeThere(
      @TempDir Path dir) {
    JobCa ca = JobCa.create("pool", Duration.ofDays(1));
    TlsMaterial operator = TlsMaterial.issue(ca, NodeIdentity.coordinator());
    TlsMaterial worker = TlsMaterial.issue(ca, NodeIdentity.worker("worker-000"));
    TestProbe<JobEvent> events = kit.createTestProbe();
    ActorRef<Object> pool =
        kit.spawn(WorkerPool.create("p4", events.ref(), Optional.of(ca.certificate())));
    TestProbe<PoolProtocol.Update> sweep = kit.createTestProbe();

    pool.tell(submitJob("a", dir, 10, worker, sweep.ref()));
    String byWorker = sweep.expectMessageClass(PoolProtocol.Refused.class, WAIT).reason();
    assertTrue(byWorker.contains("only the coordinator's certificate"), byWorker);
    pool.tell(submitJob("a", dir, 10, null, sweep.ref()));
    String unsigned = sweep.expectMessageClass(PoolProtocol.Refused.class, WAIT).reason();
    assertTrue(unsigned.contains("carries no certificate"), unsigned);
    // Signed for 10 steps, sent for 1000: the signature covers what is claimed.
    PoolProtocol.SubmitJob signed = submitJob("a", dir, 10, operator, sweep.ref());
    pool.tell(
        new PoolProtocol.SubmitJob(
            "a",
            signed.config(),
            signed.runDirectory(),
            1000,
            1,
            0,
            signed.certificate(),
            signed.signature(),
            sweep.ref()));
    String tampered = sweep.expectMessageClass(PoolProtocol.Refused.class, WAIT).reason();
    assertTrue(tampered.contains("does not match"), tampered);
    pool.tell(submitJob("b", dir.resolve("elsewhere"), 10, operator, sweep.ref()));
    String missing = sweep.expectMessageClass(PoolProtocol.Refused.class, WAIT).reason();
    assertTrue(missing.contains("file system the pool, its workers and the sweep share"), missing);
    pool.tell(new PoolProtocol.Status(sweep.ref()));
    assertEquals(List.of(), sweep.expectMessageClass(PoolProtocol.PoolState.class, WAIT).queued());

    pool.tell(signed);
    assertFalse(sweep.expectMessageClass(PoolProtocol.Accepted.class, WAIT).following());
    JobEvent.JobQueued queued = events.expectMessageClass(JobEvent.JobQueued.class, WAIT);
    assertEquals(dir.toAbsolutePath().normalize(), queued.runDirectory());
    // The same job again (a sweep started again): followed, not queued twice.
    pool.tell(submitJob("a", dir, 10, operator, sweep.ref()));
    assertTrue(sweep.expectMessageClass(PoolProtocol.Accepted.class, WAIT).following());
    pool.tell(new PoolProtocol.Status(sweep.ref()));
    assertEquals(
        List.of("a"), sweep.expectMessageClass(PoolProtocol.PoolState.class, WAIT).queued());
    // Cancelling it: the followers hear that it failed as cancelled.
    NodeProof cancel = NodeProof.sign(operator, PoolProtocol.CancelJob.statement("a", "test"));
    pool.tell(
        new PoolProtocol.CancelJob(
            "a", "test", cancel.certificate(), cancel.signature(), sweep.ref()));
    assertTrue(sweep.expectMessageClass(PoolProtocol.Accepted.class, WAIT).following());
    PoolProtocol.Failed failed = sweep.expectMessageClass(PoolProtocol.Failed.class, WAIT);
    assertEquals("CANCELLED", failed.reason());
    sweep.expectNoMessage(Duration.ofMillis(300));
  }

  @Test
  void aWorkerThatRegistersAfterThePoolClosedIsReleasedToo() {
    TestProbe<JobEvent> events = kit.createTestProbe();
    ActorRef<Object> pool = kit.spawn(WorkerPool.create("p5", events.ref(), Optional.empty()));
    TestProbe<WorkerProtocol.Command> early = pooled(pool, "worker-000");
    pool.tell(new WorkerPool.Close("the sweep is over"));
    assertTrue(early.expectMessageClass(WorkerProtocol.Release.class, WAIT).succeeded());
    // A restarted worker that comes back after the end would otherwise wait for a job forever.
    TestProbe<WorkerProtocol.Command> late = kit.createTestProbe();
    register(pool, "worker-001", late);
    WorkerProtocol.Release release = late.expectMessageClass(WorkerProtocol.Release.class, WAIT);
    assertEquals("p5", release.job());
    assertTrue(release.succeeded());
  }
}
