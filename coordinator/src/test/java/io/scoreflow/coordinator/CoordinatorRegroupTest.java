package io.scoreflow.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoreflow.proto.cluster.CoordinatorProtocol;
import io.scoreflow.proto.cluster.RingMember;
import io.scoreflow.proto.cluster.WorkerProtocol;
import io.scoreflow.run.ElasticBatch;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;

/**
 * The coordinator actor with probes for workers, in manual time. Regrouping: a lost member or a
 * failed exchange dissolves the ring, the next forms from the newest agreed checkpoint, smaller
 * rings and their batch, and the end of regroups without progress.
 */
class CoordinatorRegroupTest extends CoordinatorFixture {

  @Test
  void aLostRingMemberDissolvesTheRingAndItsReplacementFormsTheNextFromTheNewestAgreedCheckpoint() {
    TestProbe<JobEvent> events = kit.createTestProbe();
    Checkpoints checkpoints = new Checkpoints(new java.util.concurrent.ConcurrentSkipListSet<>());
    ActorRef<CoordinatorProtocol.Command> c =
        kit.spawn(Coordinator.create(spec(2, 2), checkpoints, events.ref()));
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
  void aRingThatWouldStartOverLostCheckpointsFailsTheJobInsteadOfTrainingFromZero() {
    TestProbe<JobEvent> events = kit.createTestProbe();
    Checkpoints checkpoints = new Checkpoints(new java.util.concurrent.ConcurrentSkipListSet<>());
    checkpoints.steps().add(0L);
    ActorRef<CoordinatorProtocol.Command> c =
        kit.spawn(Coordinator.create(spec(2, 2), checkpoints, events.ref()));
    List<Worker> pair = trainingPair(c, events);
    for (long step = 1; step < 4; step++) {
      c.tell(report(1, 0, step, 1.0, "aa"));
      c.tell(report(1, 1, step, 1.0, "aa"));
      events.expectMessageClass(JobEvent.StepProgress.class, WAIT);
    }
    pair.get(1).probe().stop();
    events.expectMessageClass(JobEvent.GenerationChanged.class, WAIT);
    // The checkpoint the next ring would start from is deleted under the running job.
    checkpoints.steps().clear();
    register(c, "worker-001");
    c.tell(new CoordinatorProtocol.Stopped("job-a", 2, "worker-000"));
    JobEvent.JobFailed failed = events.expectMessageClass(JobEvent.JobFailed.class, WAIT);
    assertEquals(FailureReason.CHECKPOINTS_LOST, failed.reason());
    assertTrue(failed.message().contains("the 4 agreed steps"), failed.message());
    pair.get(0).probe().expectMessageClass(WorkerProtocol.Abort.class);
    WorkerProtocol.Release release =
        pair.get(0).probe().expectMessageClass(WorkerProtocol.Release.class);
    assertFalse(release.succeeded());
  }

  @Test
  void onlyAFailureOfTheGradientExchangeIsRetriedWithANewRing() {
    TestProbe<JobEvent> events = kit.createTestProbe();
    ActorRef<CoordinatorProtocol.Command> c =
        kit.spawn(Coordinator.create(spec(2, 2), CheckpointCatalog.EMPTY, events.ref()));
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
    TestProbe<JobEvent> events = kit.createTestProbe();
    ActorRef<CoordinatorProtocol.Command> c =
        kit.spawn(Coordinator.create(spec(3, 2), () -> OptionalLong.of(5), events.ref()));
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
    time.expectNoMessageFor(Duration.ofSeconds(19), events);
    time.timePasses(Duration.ofSeconds(2));
    JobEvent.JobFailed failed = events.expectMessageClass(JobEvent.JobFailed.class, WAIT);
    assertEquals(FailureReason.NOT_ENOUGH_WORKERS, failed.reason());
    assertTrue(failed.message().contains("only 1 of 3"), failed.message());
    assertFalse(b.probe().expectMessageClass(WorkerProtocol.Release.class).succeeded());
  }

  @Test
  void aSmallerRingFormsAtTheRegroupDeadlineWhenMinWorkersAreThere() {
    TestProbe<JobEvent> events = kit.createTestProbe();
    ActorRef<CoordinatorProtocol.Command> c =
        kit.spawn(Coordinator.create(spec(3, 2), () -> OptionalLong.of(5), events.ref()));
    Worker a = register(c, "worker-000");
    Worker b = register(c, "worker-001");
    Worker d = register(c, "worker-002");
    events.expectMessageClass(JobEvent.RingFormed.class, WAIT);
    d.probe().stop();
    events.expectMessageClass(JobEvent.GenerationChanged.class, WAIT);
    c.tell(new CoordinatorProtocol.Stopped("job-a", 2, "worker-000"));
    c.tell(new CoordinatorProtocol.Stopped("job-a", 2, "worker-001"));
    time.expectNoMessageFor(Duration.ofSeconds(19), events);
    time.timePasses(Duration.ofSeconds(2));
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
    TestProbe<JobEvent> events = kit.createTestProbe();
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
        kit.spawn(Coordinator.create(scale, () -> OptionalLong.of(5), events.ref()));
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
    time.timePasses(Duration.ofSeconds(21));
    assertEquals(2, events.expectMessageClass(JobEvent.RingFormed.class, WAIT).ring().size());
    a.probe().expectMessageClass(WorkerProtocol.Abort.class);
    WorkerProtocol.StartJob smaller = a.probe().expectMessageClass(WorkerProtocol.StartJob.class);
    // Each rank keeps its 4 samples: the ring of 2 trains a global batch of 8, sent as a field; the
    // config stays the run's.
    assertEquals(8, smaller.globalBatch());
    assertEquals(scale.config(), smaller.config());
  }

  @Test
  void regroupsWithoutProgressEndTheJob() {
    TestProbe<JobEvent> events = kit.createTestProbe();
    ActorRef<CoordinatorProtocol.Command> c =
        kit.spawn(Coordinator.create(spec(2, 2), CheckpointCatalog.EMPTY, events.ref()));
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
}
