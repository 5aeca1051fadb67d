package io.scoreflow.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoreflow.proto.cluster.CoordinatorProtocol;
import io.scoreflow.proto.cluster.WorkerProtocol;
import java.time.Duration;
import java.util.OptionalLong;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;

/**
 * The coordinator actor with probes for workers, in manual time. Step progress: reports aggregated
 * over ranks, checksum agreement, worker failures, the end of a job, the step deadline.
 */
class CoordinatorProgressTest extends CoordinatorFixture {

  @Test
  void aggregatesStepsOverRanksAndFinishesWhenEveryRankIsDone() {
    TestProbe<JobEvent> events = kit.createTestProbe();
    ActorRef<CoordinatorProtocol.Command> c =
        kit.spawn(Coordinator.create(spec(2, 2), () -> OptionalLong.of(98), events.ref()));
    Worker a = register(c, "worker-000");
    Worker b = register(c, "worker-001");
    events.expectMessageClass(JobEvent.RingFormed.class, WAIT);
    a.probe().expectMessageClass(WorkerProtocol.StartJob.class);
    b.probe().expectMessageClass(WorkerProtocol.StartJob.class);

    c.tell(report(1, 1, 98, 3.0, "0badf00d"));
    events.expectNoMessage(Duration.ofMillis(100));
    c.tell(report(0, 0, 98, 1.0, "0badf00d")); // another generation: refused
    c.tell(report(1, 0, 98, 1.0, "0badf00d"));
    JobEvent.StepProgress p = events.expectMessageClass(JobEvent.StepProgress.class, WAIT);
    assertEquals(98, p.step());
    assertEquals(2.0, p.meanLoss(), 1e-12);
    assertEquals(12 / 3.5e-3, p.samplesPerSecond(), 1e-6);
    assertEquals(2.0, p.computeMs(), 1e-12);
    assertEquals(1.0, p.exchangeMs(), 1e-12);
    assertEquals(0.5, p.optimizerMs(), 1e-12);
    assertEquals("0badf00d", p.checksum());

    c.tell(report(1, 0, 99, 1.0, "01"));
    c.tell(report(1, 1, 99, 1.0, "01"));
    events.expectMessageClass(JobEvent.StepProgress.class, WAIT);
    c.tell(new CoordinatorProtocol.RankDone("job-a", 1, 1, 100));
    events.expectNoMessage(Duration.ofMillis(100));
    c.tell(new CoordinatorProtocol.RankDone("job-a", 1, 0, 100));
    JobEvent.JobFinished done = events.expectMessageClass(JobEvent.JobFinished.class, WAIT);
    assertEquals(100, done.step());
    assertTrue(a.probe().expectMessageClass(WorkerProtocol.Release.class).succeeded());
    assertTrue(b.probe().expectMessageClass(WorkerProtocol.Release.class).succeeded());
  }

  @Test
  void replicasWhoseChecksumsDifferFailTheJob() {
    TestProbe<JobEvent> events = kit.createTestProbe();
    ActorRef<CoordinatorProtocol.Command> c =
        kit.spawn(Coordinator.create(spec(2, 2), CheckpointCatalog.EMPTY, events.ref()));
    Worker a = register(c, "worker-000");
    Worker b = register(c, "worker-001");
    events.expectMessageClass(JobEvent.RingFormed.class, WAIT);
    c.tell(report(1, 0, 0, 1.0, "aaaa0000"));
    c.tell(report(1, 1, 0, 1.0, "bbbb1111"));
    JobEvent.JobFailed failed = events.expectMessageClass(JobEvent.JobFailed.class, WAIT);
    assertEquals(FailureReason.REPLICAS_DIVERGED, failed.reason());
    assertTrue(failed.message().contains("step 0"), failed.message());
    assertTrue(failed.message().contains("rank 0 crc32c aaaa0000"), failed.message());
    assertTrue(failed.message().contains("rank 1 crc32c bbbb1111"), failed.message());
    a.probe().expectMessageClass(WorkerProtocol.StartJob.class);
    assertFalse(a.probe().expectMessageClass(WorkerProtocol.Release.class).succeeded());
    b.probe().expectMessageClass(WorkerProtocol.StartJob.class);
    assertFalse(b.probe().expectMessageClass(WorkerProtocol.Release.class).succeeded());
  }

  @Test
  void aWorkerFailureFailsTheJobWithItsReason() {
    TestProbe<JobEvent> events = kit.createTestProbe();
    ActorRef<CoordinatorProtocol.Command> c =
        kit.spawn(Coordinator.create(spec(2, 2), CheckpointCatalog.EMPTY, events.ref()));
    register(c, "worker-000");
    register(c, "worker-001");
    events.expectMessageClass(JobEvent.RingFormed.class, WAIT);
    c.tell(new CoordinatorProtocol.RankFailed("job-a", 1, 1, 3, "disk full", false));
    JobEvent.JobFailed failed = events.expectMessageClass(JobEvent.JobFailed.class, WAIT);
    assertEquals(FailureReason.WORKER_FAILED, failed.reason());
    assertEquals("rank 1 (worker-001) failed at step 3: disk full", failed.message());
  }

  @Test
  void aRingWithoutProgressForTheStepDeadlineFails() {
    TestProbe<JobEvent> events = kit.createTestProbe();
    ActorRef<CoordinatorProtocol.Command> c =
        kit.spawn(Coordinator.create(spec(2, 2), CheckpointCatalog.EMPTY, events.ref()));
    register(c, "worker-000");
    register(c, "worker-001");
    events.expectMessageClass(JobEvent.RingFormed.class, WAIT);
    time.timePasses(Duration.ofSeconds(20));
    c.tell(report(1, 0, 0, 1.0, "aa"));
    c.tell(report(1, 1, 0, 1.0, "aa"));
    events.expectMessageClass(JobEvent.StepProgress.class, WAIT);
    // Progress restarted the deadline: 20 s more are fine, 31 s without a step are not.
    time.expectNoMessageFor(Duration.ofSeconds(20), events);
    time.timePasses(Duration.ofSeconds(11));
    JobEvent.JobFailed failed = events.expectMessageClass(JobEvent.JobFailed.class, WAIT);
    assertEquals(FailureReason.STALLED, failed.reason());
    assertTrue(failed.message().contains("after step 0"), failed.message());
  }

  @Test
  void aResumedRingThatNeverCompletesItsFirstStepFails() {
    TestProbe<JobEvent> events = kit.createTestProbe();
    ActorRef<CoordinatorProtocol.Command> c =
        kit.spawn(Coordinator.create(spec(2, 2), () -> OptionalLong.of(40), events.ref()));
    register(c, "worker-000");
    register(c, "worker-001");
    events.expectMessageClass(JobEvent.RingFormed.class, WAIT);
    c.tell(report(1, 0, 40, 1.0, "aa"));
    time.timePasses(Duration.ofSeconds(31));
    JobEvent.JobFailed failed = events.expectMessageClass(JobEvent.JobFailed.class, WAIT);
    assertEquals(FailureReason.STALLED, failed.reason());
    assertTrue(
        failed.message().contains("of the ring forming (its first step is 40)"), failed.message());
  }
}
