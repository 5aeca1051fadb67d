package io.scoreflow.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.scoreflow.proto.cluster.CoordinatorProtocol;
import io.scoreflow.proto.cluster.WorkerProtocol;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;

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
    assertEquals("first", events.expectMessageClass(JobEvent.JobFailed.class, WAIT).job());
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
}
