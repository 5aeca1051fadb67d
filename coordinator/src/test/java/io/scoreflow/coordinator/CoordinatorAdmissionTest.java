package io.scoreflow.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoreflow.proto.cluster.CoordinatorProtocol;
import io.scoreflow.proto.cluster.RingMember;
import io.scoreflow.proto.cluster.WorkerProtocol;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;

/**
 * The coordinator actor with probes for workers, in manual time. Admission: registrations, the ring
 * in worker-id order, generations across coordinators, standbys, the formation deadline.
 */
class CoordinatorAdmissionTest extends CoordinatorFixture {

  @Test
  void formsTheRingInWorkerIdOrderAndStartsEveryRankAtTheNewestCheckpoint() {
    TestProbe<JobEvent> events = kit.createTestProbe();
    ActorRef<CoordinatorProtocol.Command> c =
        kit.spawn(Coordinator.create(spec(3, 3), () -> OptionalLong.of(40), events.ref()));
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
    TestProbe<WorkerProtocol.Command> late = kit.createTestProbe();
    c.tell(new CoordinatorProtocol.Register("worker-003", "127.0.0.1", 7003, "cpu", late.ref()));
    assertTrue(
        late.expectMessageClass(WorkerProtocol.RegistrationRefused.class)
            .reason()
            .contains("training with a ring of 3 at generation 1"));
  }

  @Test
  void aWorkerLeavingBeforeTheRingFormsBumpsTheGeneration() {
    TestProbe<JobEvent> events = kit.createTestProbe();
    ActorRef<CoordinatorProtocol.Command> c =
        kit.spawn(Coordinator.create(spec(2, 2), CheckpointCatalog.EMPTY, events.ref()));
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
  void aRestartedCoordinatorContinuesTheGenerationsOfTheRun() {
    TestProbe<JobEvent> events = kit.createTestProbe();
    ActorRef<CoordinatorProtocol.Command> c =
        kit.spawn(
            Coordinator.create(
                spec(2, 2).startingAtGeneration(8), () -> OptionalLong.of(40), events.ref()));
    Worker a = register(c, "worker-000");
    register(c, "worker-001");
    assertEquals(8, events.expectMessageClass(JobEvent.RingFormed.class, WAIT).generation());
    assertEquals(8, a.probe().expectMessageClass(WorkerProtocol.StartJob.class).generation());
  }

  @Test
  void aWorkerRegisteringDuringTrainingJoinsAtTheNextCheckpointStep() {
    TestProbe<JobEvent> events = kit.createTestProbe();
    ActorRef<CoordinatorProtocol.Command> c =
        kit.spawn(Coordinator.create(spec(3, 2), () -> OptionalLong.of(10), events.ref()));
    Worker a = register(c, "worker-000");
    Worker b = register(c, "worker-002");
    time.timePasses(Duration.ofSeconds(61));
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
  void afterTheFormationDeadlineTheRingFormsWithMinWorkersDividingTheBatch() {
    TestProbe<JobEvent> events = kit.createTestProbe();
    // 6 wanted, at least 2; 5 come before the deadline.
    ActorRef<CoordinatorProtocol.Command> c =
        kit.spawn(Coordinator.create(spec(6, 2), CheckpointCatalog.EMPTY, events.ref()));
    for (int i = 0; i < 5; i++) {
      register(c, "worker-00" + i);
    }
    time.expectNoMessageFor(Duration.ofSeconds(59), events);
    time.timePasses(Duration.ofSeconds(2));
    JobEvent.RingFormed formed = events.expectMessageClass(JobEvent.RingFormed.class, WAIT);
    // 5 do not divide the batch of 12: the ring takes the first 4 by worker id.
    assertEquals(4, formed.ring().size());
    assertEquals("worker-003", formed.ring().get(3).workerId());
  }

  @Test
  void tooFewWorkersByTheDeadlineFailTheJob() {
    TestProbe<JobEvent> events = kit.createTestProbe();
    ActorRef<CoordinatorProtocol.Command> c =
        kit.spawn(Coordinator.create(spec(3, 2), CheckpointCatalog.EMPTY, events.ref()));
    Worker only = register(c, "worker-000");
    time.timePasses(Duration.ofSeconds(61));
    JobEvent.JobFailed failed = events.expectMessageClass(JobEvent.JobFailed.class, WAIT);
    assertEquals(FailureReason.NOT_ENOUGH_WORKERS, failed.reason());
    assertTrue(failed.message().contains("only 1 of 3 workers"), failed.message());
    assertFalse(only.probe().expectMessageClass(WorkerProtocol.Release.class).succeeded());
  }
}
