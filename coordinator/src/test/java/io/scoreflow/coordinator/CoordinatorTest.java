package io.scoreflow.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The coordinator's logic with probes for workers: ring formation, ranks, generations, progress,
 * checksum agreement, the end of a job, and its deadlines (in manual time).
 */
class CoordinatorTest {

  private static final ActorTestKit KIT =
      ActorTestKit.create(
          "CoordinatorTest",
          ManualTime.config().withFallback(ClusterNodes.node("127.0.0.1", 0, null, "coordinator")));
  private static final ManualTime TIME = ManualTime.get(KIT.system());
  private static final Duration WAIT = Duration.ofSeconds(10);

  @AfterAll
  static void shutdown() {
    KIT.shutdownTestKit();
  }

  private static JobSpec spec(int workers, int minWorkers) {
    return new JobSpec(
        "job-a",
        "scoreflow { }",
        Path.of("/tmp/run"),
        100,
        workers,
        minWorkers,
        12,
        Duration.ofSeconds(60),
        Duration.ofSeconds(30));
  }

  /** A probe that registered as {@code id}, and saw its registration accepted. */
  private record Worker(String id, TestProbe<WorkerProtocol.Command> probe) {
    ActorRef<WorkerProtocol.Command> ref() {
      return probe.ref();
    }
  }

  private static Worker register(ActorRef<Coordinator.Command> coordinator, String id) {
    TestProbe<WorkerProtocol.Command> probe = KIT.createTestProbe();
    coordinator.tell(new Coordinator.Register(id, "127.0.0.1", 7000, "cpu", probe.ref()));
    WorkerProtocol.Registered ok = probe.expectMessageClass(WorkerProtocol.Registered.class, WAIT);
    assertEquals(id, ok.workerId());
    return new Worker(id, probe);
  }

  private static Coordinator.StepReport report(
      long generation, int rank, long step, double loss, String checksum) {
    return new Coordinator.StepReport(
        "job-a", generation, rank, step, loss, 6, 2_000_000, 1_000_000, 500_000, checksum, 1.5);
  }

  @Test
  void formsTheRingInWorkerIdOrderAndStartsEveryRankAtTheNewestCheckpoint() {
    TestProbe<JobEvent> events = KIT.createTestProbe();
    ActorRef<Coordinator.Command> c =
        KIT.spawn(Coordinator.create(spec(3, 3), () -> OptionalLong.of(40), events.ref()));
    Worker b = register(c, "worker-002");
    Worker a = register(c, "worker-000");
    events.expectNoMessage(Duration.ofMillis(200));
    Worker m = register(c, "worker-001");

    JobEvent.RingFormed formed = events.expectMessageClass(JobEvent.RingFormed.class, WAIT);
    assertEquals(1, formed.generation());
    assertEquals(40, formed.startStep());
    assertEquals(
        List.of("worker-000", "worker-001", "worker-002"),
        formed.ring().stream().map(RingMember::workerId).toList());
    int rank = 0;
    for (Worker w : List.of(a, m, b)) {
      WorkerProtocol.StartJob start = w.probe().expectMessageClass(WorkerProtocol.StartJob.class);
      assertEquals(rank++, start.rank());
      assertEquals(1, start.generation());
      assertEquals(40, start.startStep());
      assertEquals(100, start.untilStep());
      assertEquals(formed.ring(), start.ring());
      assertEquals("/tmp/run", start.runDirectory());
    }
    // The ring is fixed: a fourth worker is refused.
    TestProbe<WorkerProtocol.Command> late = KIT.createTestProbe();
    c.tell(new Coordinator.Register("worker-003", "127.0.0.1", 7003, "cpu", late.ref()));
    assertTrue(
        late.expectMessageClass(WorkerProtocol.RegistrationRefused.class)
            .reason()
            .contains("training with a ring of 3 at generation 1"));
  }

  @Test
  void aWorkerLeavingBeforeTheRingFormsBumpsTheGeneration() {
    TestProbe<JobEvent> events = KIT.createTestProbe();
    ActorRef<Coordinator.Command> c =
        KIT.spawn(Coordinator.create(spec(2, 2), CheckpointCatalog.EMPTY, events.ref()));
    Worker gone = register(c, "worker-000");
    gone.probe().stop();
    JobEvent.GenerationChanged changed =
        events.expectMessageClass(JobEvent.GenerationChanged.class, WAIT);
    assertEquals(2, changed.generation());
    assertTrue(changed.why().contains("worker-000 left before the ring formed"), changed.why());

    Worker a = register(c, "worker-000");
    Worker b = register(c, "worker-001");
    JobEvent.RingFormed formed = events.expectMessageClass(JobEvent.RingFormed.class, WAIT);
    assertEquals(2, formed.generation());
    assertEquals(0, formed.startStep());
    assertEquals(2, a.probe().expectMessageClass(WorkerProtocol.StartJob.class).generation());
    assertEquals(1, b.probe().expectMessageClass(WorkerProtocol.StartJob.class).rank());
  }

  @Test
  void aRingMemberLeavingBumpsTheGenerationAndFailsTheJobLoudly() {
    TestProbe<JobEvent> events = KIT.createTestProbe();
    ActorRef<Coordinator.Command> c =
        KIT.spawn(Coordinator.create(spec(2, 2), CheckpointCatalog.EMPTY, events.ref()));
    Worker a = register(c, "worker-000");
    Worker b = register(c, "worker-001");
    events.expectMessageClass(JobEvent.RingFormed.class, WAIT);
    a.probe().expectMessageClass(WorkerProtocol.StartJob.class);
    b.probe().expectMessageClass(WorkerProtocol.StartJob.class);
    c.tell(report(1, 0, 0, 1.0, "aa"));
    c.tell(report(1, 1, 0, 1.0, "aa"));
    events.expectMessageClass(JobEvent.StepProgress.class, WAIT);

    b.probe().stop();
    JobEvent.GenerationChanged changed =
        events.expectMessageClass(JobEvent.GenerationChanged.class, WAIT);
    assertEquals(2, changed.generation());
    JobEvent.JobFailed failed = events.expectMessageClass(JobEvent.JobFailed.class, WAIT);
    assertEquals(FailureReason.WORKER_LOST, failed.reason());
    assertEquals(2, failed.generation());
    assertTrue(failed.message().contains("worker-001 (rank 1"), failed.message());
    assertTrue(failed.message().contains("lost at step 1"), failed.message());
    WorkerProtocol.Release release = a.probe().expectMessageClass(WorkerProtocol.Release.class);
    assertFalse(release.succeeded());
    assertEquals(2, release.generation());
    // Reports of the old generation are refused now.
    c.tell(report(1, 0, 1, 1.0, "bb"));
    events.expectNoMessage(Duration.ofMillis(200));
  }

  @Test
  void aggregatesStepsOverRanksAndFinishesWhenEveryRankIsDone() {
    TestProbe<JobEvent> events = KIT.createTestProbe();
    ActorRef<Coordinator.Command> c =
        KIT.spawn(Coordinator.create(spec(2, 2), () -> OptionalLong.of(98), events.ref()));
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
    c.tell(new Coordinator.RankDone("job-a", 1, 1, 100));
    events.expectNoMessage(Duration.ofMillis(100));
    c.tell(new Coordinator.RankDone("job-a", 1, 0, 100));
    JobEvent.JobFinished done = events.expectMessageClass(JobEvent.JobFinished.class, WAIT);
    assertEquals(100, done.step());
    assertTrue(a.probe().expectMessageClass(WorkerProtocol.Release.class).succeeded());
    assertTrue(b.probe().expectMessageClass(WorkerProtocol.Release.class).succeeded());
  }

  @Test
  void replicasWhoseChecksumsDifferFailTheJob() {
    TestProbe<JobEvent> events = KIT.createTestProbe();
    ActorRef<Coordinator.Command> c =
        KIT.spawn(Coordinator.create(spec(2, 2), CheckpointCatalog.EMPTY, events.ref()));
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
    TestProbe<JobEvent> events = KIT.createTestProbe();
    ActorRef<Coordinator.Command> c =
        KIT.spawn(Coordinator.create(spec(2, 2), CheckpointCatalog.EMPTY, events.ref()));
    register(c, "worker-000");
    register(c, "worker-001");
    events.expectMessageClass(JobEvent.RingFormed.class, WAIT);
    c.tell(new Coordinator.RankFailed("job-a", 1, 1, 3, "disk full"));
    JobEvent.JobFailed failed = events.expectMessageClass(JobEvent.JobFailed.class, WAIT);
    assertEquals(FailureReason.WORKER_FAILED, failed.reason());
    assertEquals("rank 1 (worker-001) failed at step 3: disk full", failed.message());
  }

  @Test
  void afterTheFormationDeadlineTheRingFormsWithMinWorkersDividingTheBatch() {
    TestProbe<JobEvent> events = KIT.createTestProbe();
    // 6 wanted, at least 2; 5 come before the deadline.
    ActorRef<Coordinator.Command> c =
        KIT.spawn(Coordinator.create(spec(6, 2), CheckpointCatalog.EMPTY, events.ref()));
    for (int i = 0; i < 5; i++) {
      register(c, "worker-00" + i);
    }
    TIME.expectNoMessageFor(Duration.ofSeconds(59), events);
    TIME.timePasses(Duration.ofSeconds(2));
    JobEvent.RingFormed formed = events.expectMessageClass(JobEvent.RingFormed.class, WAIT);
    // 5 do not divide the batch of 12: the ring takes the first 4 by worker id.
    assertEquals(4, formed.ring().size());
    assertEquals("worker-003", formed.ring().get(3).workerId());
  }

  @Test
  void tooFewWorkersByTheDeadlineFailTheJob() {
    TestProbe<JobEvent> events = KIT.createTestProbe();
    ActorRef<Coordinator.Command> c =
        KIT.spawn(Coordinator.create(spec(3, 2), CheckpointCatalog.EMPTY, events.ref()));
    Worker only = register(c, "worker-000");
    TIME.timePasses(Duration.ofSeconds(61));
    JobEvent.JobFailed failed = events.expectMessageClass(JobEvent.JobFailed.class, WAIT);
    assertEquals(FailureReason.NOT_ENOUGH_WORKERS, failed.reason());
    assertTrue(failed.message().contains("only 1 of 3 workers"), failed.message());
    assertFalse(only.probe().expectMessageClass(WorkerProtocol.Release.class).succeeded());
  }

  @Test
  void aRingWithoutProgressForTheStepDeadlineFails() {
    TestProbe<JobEvent> events = KIT.createTestProbe();
    ActorRef<Coordinator.Command> c =
        KIT.spawn(Coordinator.create(spec(2, 2), CheckpointCatalog.EMPTY, events.ref()));
    register(c, "worker-000");
    register(c, "worker-001");
    events.expectMessageClass(JobEvent.RingFormed.class, WAIT);
    TIME.timePasses(Duration.ofSeconds(20));
    c.tell(report(1, 0, 0, 1.0, "aa"));
    c.tell(report(1, 1, 0, 1.0, "aa"));
    events.expectMessageClass(JobEvent.StepProgress.class, WAIT);
    // Progress restarted the deadline: 20 s more are fine, 31 s without a step are not.
    TIME.expectNoMessageFor(Duration.ofSeconds(20), events);
    TIME.timePasses(Duration.ofSeconds(11));
    JobEvent.JobFailed failed = events.expectMessageClass(JobEvent.JobFailed.class, WAIT);
    assertEquals(FailureReason.STALLED, failed.reason());
    assertTrue(failed.message().contains("after step 0"), failed.message());
  }

  @Test
  void aResumedRingThatNeverCompletesItsFirstStepFails() {
    TestProbe<JobEvent> events = KIT.createTestProbe();
    ActorRef<Coordinator.Command> c =
        KIT.spawn(Coordinator.create(spec(2, 2), () -> OptionalLong.of(40), events.ref()));
    register(c, "worker-000");
    register(c, "worker-001");
    events.expectMessageClass(JobEvent.RingFormed.class, WAIT);
    c.tell(report(1, 0, 40, 1.0, "aa"));
    TIME.timePasses(Duration.ofSeconds(31));
    JobEvent.JobFailed failed = events.expectMessageClass(JobEvent.JobFailed.class, WAIT);
    assertEquals(FailureReason.STALLED, failed.reason());
    assertTrue(
        failed.message().contains("of the ring forming (its first step is 40)"), failed.message());
  }
}
