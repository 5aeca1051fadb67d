package io.scoreflow.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoreflow.proto.cluster.ClusterNodes;
import io.scoreflow.proto.cluster.CoordinatorProtocol;
import io.scoreflow.proto.cluster.RingMember;
import io.scoreflow.proto.cluster.WorkerProtocol;
import io.scoreflow.run.ElasticBatch;
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
        Duration.ofSeconds(30),
        10,
        Duration.ofSeconds(20),
        2,
        1,
        ElasticBatch.KEEP);
  }

  /** A probe that registered as {@code id}, and saw its registration accepted. */
  private record Worker(String id, TestProbe<WorkerProtocol.Command> probe) {
    ActorRef<WorkerProtocol.Command> ref() {
      return probe.ref();
    }
  }

  private static Worker register(ActorRef<CoordinatorProtocol.Command> coordinator, String id) {
    TestProbe<WorkerProtocol.Command> probe = KIT.createTestProbe();
    coordinator.tell(new CoordinatorProtocol.Register(id, "127.0.0.1", 7000, "cpu", probe.ref()));
    WorkerProtocol.Registered ok = probe.expectMessageClass(WorkerProtocol.Registered.class, WAIT);
    assertEquals(id, ok.workerId());
    return new Worker(id, probe);
  }

  private static CoordinatorProtocol.StepReport report(
      long generation, int rank, long step, double loss, String checksum) {
    return new CoordinatorProtocol.StepReport(
        "job-a", generation, rank, step, loss, 6, 2_000_000, 1_000_000, 500_000, checksum, 1.5);
  }

  @Test
  void formsTheRingInWorkerIdOrderAndStartsEveryRankAtTheNewestCheckpoint() {
    TestProbe<JobEvent> events = KIT.createTestProbe();
    ActorRef<CoordinatorProtocol.Command> c =
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
    c.tell(new CoordinatorProtocol.Register("worker-003", "127.0.0.1", 7003, "cpu", late.ref()));
    assertTrue(
        late.expectMessageClass(WorkerProtocol.RegistrationRefused.class)
            .reason()
            .contains("training with a ring of 3 at generation 1"));
  }

  @Test
  void aWorkerLeavingBeforeTheRingFormsBumpsTheGeneration() {
    TestProbe<JobEvent> events = KIT.createTestProbe();
    ActorRef<CoordinatorProtocol.Command> c =
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

  /** Two registered workers, their ring formed and step 0 agreed. */
  private static List<Worker> trainingPair(
      ActorRef<CoordinatorProtocol.Command> c, TestProbe<JobEvent> e) {
    Worker a = register(c, "worker-000");
    Worker b = register(c, "worker-001");
    e.expectMessageClass(JobEvent.RingFormed.class, WAIT);
    a.probe().expectMessageClass(WorkerProtocol.StartJob.class);
    b.probe().expectMessageClass(WorkerProtocol.StartJob.class);
    c.tell(report(1, 0, 0, 1.0, "aa"));
    c.tell(report(1, 1, 0, 1.0, "aa"));
    e.expectMessageClass(JobEvent.StepProgress.class, WAIT);
    return List.of(a, b);
  }

  /** Checkpoints at the given steps, all valid. */
  private record Checkpoints(java.util.NavigableSet<Long> steps) implements CheckpointCatalog {
    @Override
    public OptionalLong newestValidStep() {
      return steps.isEmpty() ? OptionalLong.empty() : OptionalLong.of(steps.last());
    }

    @Override
    public OptionalLong newestValidStepAtMost(long bound) {
      Long at = steps.floor(bound);
      return at == null ? OptionalLong.empty() : OptionalLong.of(at);
    }
  }

  @Test
  void aLostRingMemberDissolvesTheRingAndItsReplacementFormsTheNextFromTheNewestAgreedCheckpoint() {
    TestProbe<JobEvent> events = KIT.createTestProbe();
    Checkpoints checkpoints = new Checkpoints(new java.util.concurrent.ConcurrentSkipListSet<>());
    ActorRef<CoordinatorProtocol.Command> c =
        KIT.spawn(Coordinator.create(spec(2, 2), checkpoints, events.ref()));
    List<Worker> pair = trainingPair(c, events);
    Worker a = pair.get(0);
    for (long step = 1; step < 10; step++) {
      c.tell(report(1, 0, step, 1.0, "aa"));
      c.tell(report(1, 1, step, 1.0, "aa"));
      events.expectMessageClass(JobEvent.StepProgress.class, WAIT);
    }

    pair.get(1).probe().stop();
    JobEvent.GenerationChanged changed =
        events.expectMessageClass(JobEvent.GenerationChanged.class, WAIT);
    assertEquals(2, changed.generation());
    assertTrue(changed.why().contains("worker-001 (rank 1"), changed.why());
    assertTrue(changed.why().contains("lost at step 10"), changed.why());
    WorkerProtocol.Abort abort = a.probe().expectMessageClass(WorkerProtocol.Abort.class);
    assertEquals(2, abort.generation());
    // Reports of the dissolved ring are refused.
    c.tell(report(1, 0, 10, 1.0, "bb"));
    events.expectNoMessage(Duration.ofMillis(200));

    // The replacement registers first; the ring still waits for the survivor to stop.
    Worker replacement = register(c, "worker-001");
    events.expectNoMessage(Duration.ofMillis(200));
    // Rank 0 wrote step 10 (agreed: steps 0..9 are done) and, before it stopped, step 20, whose
    // last steps worker-001 never reported: the ring goes back to 10.
    checkpoints.steps().addAll(List.of(10L, 20L));
    c.tell(new CoordinatorProtocol.Stopped("job-a", 2, "worker-000"));
    JobEvent.RingFormed formed = events.expectMessageClass(JobEvent.RingFormed.class, WAIT);
    assertEquals(2, formed.generation());
    assertEquals(10, formed.startStep());
    WorkerProtocol.StartJob start = a.probe().expectMessageClass(WorkerProtocol.StartJob.class);
    assertEquals(2, start.generation());
    assertEquals(10, start.startStep());
    assertEquals(1, replacement.probe().expectMessageClass(WorkerProtocol.StartJob.class).rank());
  }

  @Test
  void aRestartedCoordinatorContinuesTheGenerationsOfTheRun() {
    TestProbe<JobEvent> events = KIT.createTestProbe();
    ActorRef<CoordinatorProtocol.Command> c =
        KIT.spawn(
            Coordinator.create(
                spec(2, 2).startingAtGeneration(8), () -> OptionalLong.of(40), events.ref()));
    Worker a = register(c, "worker-000");
    register(c, "worker-001");
    assertEquals(8, events.expectMessageClass(JobEvent.RingFormed.class, WAIT).generation());
    assertEquals(8, a.probe().expectMessageClass(WorkerProtocol.StartJob.class).generation());
  }

  @Test
  void onlyAFailureOfTheGradientExchangeIsRetriedWithANewRing() {
    TestProbe<JobEvent> events = KIT.createTestProbe();
    ActorRef<CoordinatorProtocol.Command> c =
        KIT.spawn(Coordinator.create(spec(2, 2), CheckpointCatalog.EMPTY, events.ref()));
    List<Worker> pair = trainingPair(c, events);
    c.tell(
        new CoordinatorProtocol.RankFailed("job-a", 1, 0, 1, "stream from rank 1 cancelled", true));
    assertTrue(
        events
            .expectMessageClass(JobEvent.GenerationChanged.class, WAIT)
            .why()
            .contains("gradient exchange of rank 0 (worker-000) failed at step 1"));
    for (Worker w : pair) {
      assertEquals(2, w.probe().expectMessageClass(WorkerProtocol.Abort.class).generation());
      c.tell(new CoordinatorProtocol.Stopped("job-a", 2, w.id()));
    }
    JobEvent.RingFormed formed = events.expectMessageClass(JobEvent.RingFormed.class, WAIT);
    assertEquals(2, formed.generation());
    assertEquals(2, formed.ring().size());

    c.tell(new CoordinatorProtocol.RankFailed("job-a", 2, 1, 4, "out of disk", false));
    JobEvent.JobFailed failed = events.expectMessageClass(JobEvent.JobFailed.class, WAIT);
    assertEquals(FailureReason.WORKER_FAILED, failed.reason());
  }

  @Test
  void withMinWorkersTheRingGoesOnSmallerAfterTheRegroupDeadlineAndATardySurvivorIsDropped() {
    TestProbe<JobEvent> events = KIT.createTestProbe();
    ActorRef<CoordinatorProtocol.Command> c =
        KIT.spawn(Coordinator.create(spec(3, 2), () -> OptionalLong.of(5), events.ref()));
    Worker a = register(c, "worker-000");
    Worker b = register(c, "worker-001");
    Worker d = register(c, "worker-002");
    events.expectMessageClass(JobEvent.RingFormed.class, WAIT);
    for (Worker w : List.of(a, b, d)) {
      w.probe().expectMessageClass(WorkerProtocol.StartJob.class);
    }
    d.probe().stop();
    events.expectMessageClass(JobEvent.GenerationChanged.class, WAIT);
    a.probe().expectMessageClass(WorkerProtocol.Abort.class);
    b.probe().expectMessageClass(WorkerProtocol.Abort.class);
    c.tell(new CoordinatorProtocol.Stopped("job-a", 2, "worker-000"));
    // worker-001 never confirms: at the deadline it is dropped, and 1 < min-workers 2.
    TIME.expectNoMessageFor(Duration.ofSeconds(19), events);
    TIME.timePasses(Duration.ofSeconds(2));
    JobEvent.JobFailed failed = events.expectMessageClass(JobEvent.JobFailed.class, WAIT);
    assertEquals(FailureReason.NOT_ENOUGH_WORKERS, failed.reason());
    assertTrue(failed.message().contains("only 1 of 3"), failed.message());
    assertFalse(b.probe().expectMessageClass(WorkerProtocol.Release.class).succeeded());
  }

  @Test
  void aSmallerRingFormsAtTheRegroupDeadlineWhenMinWorkersAreThere() {
    TestProbe<JobEvent> events = KIT.createTestProbe();
    ActorRef<CoordinatorProtocol.Command> c =
        KIT.spawn(Coordinator.create(spec(3, 2), () -> OptionalLong.of(5), events.ref()));
    Worker a = register(c, "worker-000");
    Worker b = register(c, "worker-001");
    Worker d = register(c, "worker-002");
    events.expectMessageClass(JobEvent.RingFormed.class, WAIT);
    d.probe().stop();
    events.expectMessageClass(JobEvent.GenerationChanged.class, WAIT);
    c.tell(new CoordinatorProtocol.Stopped("job-a", 2, "worker-000"));
    c.tell(new CoordinatorProtocol.Stopped("job-a", 2, "worker-001"));
    TIME.expectNoMessageFor(Duration.ofSeconds(19), events);
    TIME.timePasses(Duration.ofSeconds(2));
    JobEvent.RingFormed formed = events.expectMessageClass(JobEvent.RingFormed.class, WAIT);
    assertEquals(
        List.of("worker-000", "worker-001"),
        formed.ring().stream().map(RingMember::workerId).toList());
    assertEquals(5, formed.startStep());
    a.probe().expectMessageClass(WorkerProtocol.StartJob.class);
    a.probe().expectMessageClass(WorkerProtocol.Abort.class);
    WorkerProtocol.StartJob smaller = a.probe().expectMessageClass(WorkerProtocol.StartJob.class);
    assertEquals(2, smaller.ring().size());
    // elastic-batch = keep: the ring of 2 splits the same global batch of 12.
    assertEquals(12, smaller.globalBatch());
  }

  @Test
  void withElasticBatchScaleASmallerRingTrainsItsOwnShareOfTheBatch() {
    TestProbe<JobEvent> events = KIT.createTestProbe();
    JobSpec base = spec(3, 2);
    JobSpec scale =
        new JobSpec(
            base.job(),
            "scoreflow { train { batch-size = 12 }, cluster { elastic-batch = scale } }",
            base.runDirectory(),
            base.untilStep(),
            base.workers(),
            base.minWorkers(),
            base.globalBatchSize(),
            base.formTimeout(),
            base.stepTimeout(),
            base.checkpointEvery(),
            base.regroupTimeout(),
            base.maxRegroups(),
            1,
            ElasticBatch.SCALE);
    ActorRef<CoordinatorProtocol.Command> c =
        KIT.spawn(Coordinator.create(scale, () -> OptionalLong.of(5), events.ref()));
    Worker a = register(c, "worker-000");
    register(c, "worker-001");
    Worker d = register(c, "worker-002");
    events.expectMessageClass(JobEvent.RingFormed.class, WAIT);
    WorkerProtocol.StartJob full = a.probe().expectMessageClass(WorkerProtocol.StartJob.class);
    assertEquals(12, full.globalBatch());
    d.probe().stop();
    events.expectMessageClass(JobEvent.GenerationChanged.class, WAIT);
    c.tell(new CoordinatorProtocol.Stopped("job-a", 2, "worker-000"));
    c.tell(new CoordinatorProtocol.Stopped("job-a", 2, "worker-001"));
    TIME.timePasses(Duration.ofSeconds(21));
    assertEquals(2, events.expectMessageClass(JobEvent.RingFormed.class, WAIT).ring().size());
    a.probe().expectMessageClass(WorkerProtocol.Abort.class);
    WorkerProtocol.StartJob smaller = a.probe().expectMessageClass(WorkerProtocol.StartJob.class);
    // Each rank keeps its 4 samples: the ring of 2 trains a global batch of 8, sent as a field; the
    // config stays the run's.
    assertEquals(8, smaller.globalBatch());
    assertEquals(scale.config(), smaller.config());
  }

  @Test
  void aWorkerRegisteringDuringTrainingJoinsAtTheNextCheckpointStep() {
    TestProbe<JobEvent> events = KIT.createTestProbe();
    ActorRef<CoordinatorProtocol.Command> c =
        KIT.spawn(Coordinator.create(spec(3, 2), () -> OptionalLong.of(10), events.ref()));
    Worker a = register(c, "worker-000");
    Worker b = register(c, "worker-002");
    TIME.timePasses(Duration.ofSeconds(61));
    assertEquals(2, events.expectMessageClass(JobEvent.RingFormed.class, WAIT).ring().size());
    Worker late = register(c, "worker-001");
    // Steps 10..18 (1-based 11..19) pass; the step that completes 20 is a checkpoint step.
    for (long step = 10; step < 19; step++) {
      c.tell(report(1, 0, step, 1.0, "cc"));
      c.tell(report(1, 1, step, 1.0, "cc"));
      events.expectMessageClass(JobEvent.StepProgress.class, WAIT);
    }
    events.expectNoMessage(Duration.ofMillis(100));
    c.tell(report(1, 0, 19, 1.0, "cc"));
    c.tell(report(1, 1, 19, 1.0, "cc"));
    events.expectMessageClass(JobEvent.StepProgress.class, WAIT);
    JobEvent.GenerationChanged changed =
        events.expectMessageClass(JobEvent.GenerationChanged.class, WAIT);
    assertEquals("worker-001 joining at step 20", changed.why());
    late.probe().expectMessageClass(WorkerProtocol.Abort.class);
    for (Worker w : List.of(a, b, late)) {
      c.tell(new CoordinatorProtocol.Stopped("job-a", 2, w.id()));
    }
    JobEvent.RingFormed formed = events.expectMessageClass(JobEvent.RingFormed.class, WAIT);
    assertEquals(3, formed.ring().size());
    assertEquals("worker-001", formed.ring().get(1).workerId());
  }

  @Test
  void regroupsWithoutProgressEndTheJob() {
    TestProbe<JobEvent> events = KIT.createTestProbe();
    ActorRef<CoordinatorProtocol.Command> c =
        KIT.spawn(Coordinator.create(spec(2, 2), CheckpointCatalog.EMPTY, events.ref()));
    register(c, "worker-000");
    register(c, "worker-001");
    for (long g = 1; g <= 3; g++) {
      events.expectMessageClass(JobEvent.RingFormed.class, WAIT);
      c.tell(new CoordinatorProtocol.RankFailed("job-a", g, 0, 0, "peer refused", true));
      if (g < 3) {
        events.expectMessageClass(JobEvent.GenerationChanged.class, WAIT);
        c.tell(new CoordinatorProtocol.Stopped("job-a", g + 1, "worker-000"));
        c.tell(new CoordinatorProtocol.Stopped("job-a", g + 1, "worker-001"));
      }
    }
    JobEvent.JobFailed failed = events.expectMessageClass(JobEvent.JobFailed.class, WAIT);
    assertEquals(FailureReason.NO_PROGRESS, failed.reason());
    assertTrue(failed.message().contains("2 regroups in a row"), failed.message());
    assertTrue(failed.message().contains("peer refused"), failed.message());
  }

  @Test
  void aggregatesStepsOverRanksAndFinishesWhenEveryRankIsDone() {
    TestProbe<JobEvent> events = KIT.createTestProbe();
    ActorRef<CoordinatorProtocol.Command> c =
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
    TestProbe<JobEvent> events = KIT.createTestProbe();
    ActorRef<CoordinatorProtocol.Command> c =
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
    ActorRef<CoordinatorProtocol.Command> c =
        KIT.spawn(Coordinator.create(spec(2, 2), CheckpointCatalog.EMPTY, events.ref()));
    register(c, "worker-000");
    register(c, "worker-001");
    events.expectMessageClass(JobEvent.RingFormed.class, WAIT);
    c.tell(new CoordinatorProtocol.RankFailed("job-a", 1, 1, 3, "disk full", false));
    JobEvent.JobFailed failed = events.expectMessageClass(JobEvent.JobFailed.class, WAIT);
    assertEquals(FailureReason.WORKER_FAILED, failed.reason());
    assertEquals("rank 1 (worker-001) failed at step 3: disk full", failed.message());
  }

  @Test
  void afterTheFormationDeadlineTheRingFormsWithMinWorkersDividingTheBatch() {
    TestProbe<JobEvent> events = KIT.createTestProbe();
    // 6 wanted, at least 2; 5 come before the deadline.
    ActorRef<CoordinatorProtocol.Command> c =
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
    ActorRef<CoordinatorProtocol.Command> c =
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
    ActorRef<CoordinatorProtocol.Command> c =
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
    ActorRef<CoordinatorProtocol.Command> c =
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
