package io.scoreflow.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoreflow.proto.cluster.CoordinatorProtocol;
import io.scoreflow.proto.cluster.RingMember;
import io.scoreflow.proto.cluster.WorkerProtocol;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The worker's actor with a probe for the coordinator (found through the receptionist) and a fake
 * replica whose thread the test drives: registration, start, relaying, the end of a run, release.
 */
class WorkerNodeTest {

  private static final Duration WAIT = Duration.ofSeconds(10);

  /** One system per test: each test's coordinator must be the only one its worker can find. */
  private ActorTestKit kit;

  @BeforeEach
  void startSystem() {
    kit = ActorTestKit.create("WorkerNodeTest");
  }

  @AfterEach
  void shutdown() {
    kit.shutdownTestKit();
  }

  /** A replica that does nothing by itself: the test plays its training thread. */
  private static final class FakeReplicas implements Replica.Launcher {
    final BlockingQueue<Replica.Events> started = new LinkedBlockingQueue<>();
    final BlockingQueue<String> stopped = new LinkedBlockingQueue<>();

    @Override
    public Replica start(WorkerProtocol.StartJob job, Replica.Events events) {
      started.add(events);
      return () -> stopped.add("rank " + job.rank());
    }

    Replica.Events awaitStart() throws InterruptedException {
      Replica.Events e = started.poll(10, TimeUnit.SECONDS);
      assertTrue(e != null, "no replica started");
      return e;
    }
  }

  private static WorkerSettings settings(String id) {
    return new WorkerSettings(
        id,
        "127.0.0.1",
        "cpu",
        Duration.ofMillis(200),
        Duration.ofSeconds(5),
        Duration.ofSeconds(2),
        Duration.ofSeconds(15));
  }

  /** A probe registered as the coordinator, and the worker's first registration with it. */
  private record Setup(
      TestProbe<CoordinatorProtocol.Command> coordinator,
      CompletableFuture<WorkerExit> exit,
      FakeReplicas replicas,
      CoordinatorProtocol.Register registration) {}

  private Setup registered(String id) {
    TestProbe<CoordinatorProtocol.Command> coordinator = kit.createTestProbe();
    kit.system()
        .receptionist()
        .tell(Receptionist.register(CoordinatorProtocol.SERVICE_KEY, coordinator.ref()));
    FakeReplicas replicas = new FakeReplicas();
    CompletableFuture<WorkerExit> exit = new CompletableFuture<>();
    kit.spawn(WorkerNode.create(settings(id), 4242, replicas, exit));
    CoordinatorProtocol.Register r =
        coordinator
            .fishForMessage(
                WAIT,
                m ->
                    m instanceof CoordinatorProtocol.Register reg && reg.workerId().equals(id)
                        ? FishingOutcomes.complete()
                        : FishingOutcomes.continueAndIgnore())
            .stream()
            .map(CoordinatorProtocol.Register.class::cast)
            .reduce((a, b) -> b)
            .orElseThrow();
    assertEquals(4242, r.exchangePort());
    return new Setup(coordinator, exit, replicas, r);
  }

  /** Generation 3 of a ring of two that places worker {@code id} at {@code rank}. */
  private static WorkerProtocol.StartJob start(String id, int rank) {
    return start(id, rank, 3);
  }

  private static WorkerProtocol.StartJob start(String id, int rank, long generation) {
    List<RingMember> ring =
        List.of(
            new RingMember(0, rank == 0 ? id : "w0", "127.0.0.1", 1, "cpu"),
            new RingMember(1, rank == 1 ? id : "w1", "127.0.0.1", 2, "cpu"));
    return new WorkerProtocol.StartJob(
        "job", generation, rank, ring, 10, 12, 12, "scoreflow {}", "/tmp/r");
  }

  @Test
  void registersTrainsRelaysAndEndsWhenReleased() throws Exception {
    Setup s = registered("worker-a");
    var inbox = s.registration().worker();
    inbox.tell(new WorkerProtocol.Registered("job", "worker-a", s.coordinator().ref()));
    inbox.tell(start("worker-a", 1));
    Replica.Events events = s.replicas().awaitStart();

    CoordinatorProtocol.StepReport step =
        new CoordinatorProtocol.StepReport("job", 3, 1, 10, 0.5, 8, 1, 2, 3, "abcd", 1.0);
    events.onStep(step);
    assertEquals(step, s.coordinator().fishForMessage(WAIT, WorkerNodeTest::skipRegister).get(0));
    events.onEnd(12, null, false);
    assertEquals(
        new CoordinatorProtocol.RankDone("job", 3, 1, 12),
        s.coordinator().fishForMessage(WAIT, WorkerNodeTest::skipRegister).get(0));

    inbox.tell(new WorkerProtocol.Release("job", 3, true, "job finished"));
    WorkerExit exit = s.exit().get(10, TimeUnit.SECONDS);
    assertEquals(WorkerExit.OK, exit.code());
    assertTrue(exit.reason().contains("job finished"), exit.reason());
  }

  @Test
  void aPooledWorkerOutlivesItsJobsReturnsToThePoolAndEndsOnlyWhenThePoolReleasesIt()
      throws Exception {
    Setup s = registered("worker-p");
    var inbox = s.registration().worker();
    TestProbe<CoordinatorProtocol.Command> job = kit.createTestProbe();
    inbox.tell(new WorkerProtocol.Pooled("pool", "worker-p", s.coordinator().ref()));
    // Idle in the pool past its registration deadline (5 s here): the pool has no deadline.
    Thread.sleep(6000);
    assertTrue(!s.exit().isDone(), "a pooled worker must wait for a job without a deadline");
    inbox.tell(new WorkerProtocol.Registered("job", "worker-p", job.ref()));
    inbox.tell(start("worker-p", 1));
    Replica.Events events = s.replicas().awaitStart();
    // Released while training: the replica stops first, then the worker registers with the pool.
    inbox.tell(new WorkerProtocol.Release("job", 3, false, "job cancelled"));
    assertEquals("rank 1", s.replicas().stopped.poll(10, TimeUnit.SECONDS));
    events.onEnd(11, "stopped", false);
    CoordinatorProtocol.Register again =
        s
            .coordinator()
            .fishForMessage(
                WAIT,
                m ->
                    m instanceof CoordinatorProtocol.Register
                        ? FishingOutcomes.complete()
                        : FishingOutcomes.continueAndIgnore())
            .stream()
            .map(CoordinatorProtocol.Register.class::cast)
            .reduce((a, b) -> b)
            .orElseThrow();
    assertEquals("worker-p", again.workerId());
    assertTrue(!s.exit().isDone(), "a job's release must not end a pooled worker");
    // Back in the pool, another job's messages are welcome; the pool's release ends it.
    inbox.tell(new WorkerProtocol.Pooled("pool", "worker-p", s.coordinator().ref()));
    inbox.tell(new WorkerProtocol.Release("pool", 0, true, "sweep over"));
    WorkerExit exit = s.exit().get(10, TimeUnit.SECONDS);
    assertEquals(WorkerExit.OK, exit.code());
    assertTrue(exit.reason().contains("sweep over"), exit.reason());
  }

  @Test
  void aFailedRunIsReportedAndAFailedReleaseExitsNonZero() throws Exception {
    Setup s = registered("worker-b");
    var inbox = s.registration().worker();
    inbox.tell(new WorkerProtocol.Registered("job", "worker-b", s.coordinator().ref()));
    inbox.tell(start("worker-b", 0));
    s.replicas().awaitStart().onEnd(11, "exchange broke", true);
    assertEquals(
        new CoordinatorProtocol.RankFailed("job", 3, 0, 11, "exchange broke", true),
        s.coordinator().fishForMessage(WAIT, WorkerNodeTest::skipRegister).get(0));
    inbox.tell(new WorkerProtocol.Release("job", 3, false, "rank 0 failed"));
    assertEquals(WorkerExit.FAILED, s.exit().get(10, TimeUnit.SECONDS).code());
  }

  @Test
  void aReleaseWhileTrainingStopsTheReplicaFirst() throws Exception {
    Setup s = registered("worker-c");
    var inbox = s.registration().worker();
    inbox.tell(new WorkerProtocol.Registered("job", "worker-c", s.coordinator().ref()));
    inbox.tell(start("worker-c", 1));
    Replica.Events events = s.replicas().awaitStart();
    inbox.tell(new WorkerProtocol.Release("job", 4, false, "worker lost"));
    assertEquals("rank 1", s.replicas().stopped.poll(10, TimeUnit.SECONDS));
    Thread.sleep(200);
    assertTrue(!s.exit().isDone(), "must wait for the training thread");
    events.onEnd(11, "stopped", false);
    WorkerExit exit = s.exit().get(10, TimeUnit.SECONDS);
    assertEquals(WorkerExit.FAILED, exit.code());
    assertTrue(exit.reason().contains("worker lost"), exit.reason());
  }

  @Test
  void losingTheCoordinatorEndsTheNodeForTheProcessToRejoin() throws Exception {
    Setup s = registered("worker-d");
    s.registration()
        .worker()
        .tell(new WorkerProtocol.Registered("job", "worker-d", s.coordinator().ref()));
    Thread.sleep(200);
    s.coordinator().stop();
    WorkerExit exit = s.exit().get(10, TimeUnit.SECONDS);
    assertEquals(WorkerExit.COORDINATOR_LOST, exit.code());
    assertTrue(exit.reason().contains("coordinator is gone"), exit.reason());
  }

  @Test
  void anAbortStopsTheReplicaConfirmsOnlyOnceItsThreadEndedAndTheNextRingStartsAnew()
      throws Exception {
    Setup s = registered("worker-g");
    var inbox = s.registration().worker();
    inbox.tell(new WorkerProtocol.Registered("job", "worker-g", s.coordinator().ref()));
    inbox.tell(start("worker-g", 1));
    Replica.Events first = s.replicas().awaitStart();
    inbox.tell(new WorkerProtocol.Abort("job", 4, "worker-h lost"));
    assertEquals("rank 1", s.replicas().stopped.poll(10, TimeUnit.SECONDS));
    // The dying replica's last report is not relayed, and no confirmation before its thread ends.
    first.onStep(new CoordinatorProtocol.StepReport("job", 3, 1, 11, 0.5, 8, 1, 2, 3, "abcd", 1.0));
    s.coordinator().expectNoMessage(Duration.ofMillis(300));
    first.onEnd(11, "stopped", true);
    assertEquals(
        new CoordinatorProtocol.Stopped("job", 4, "worker-g"),
        s.coordinator().fishForMessage(WAIT, WorkerNodeTest::skipRegister).get(0));
    // A second abort while waiting is confirmed at once.
    inbox.tell(new WorkerProtocol.Abort("job", 5, "again"));
    assertEquals(
        new CoordinatorProtocol.Stopped("job", 5, "worker-g"),
        s.coordinator().fishForMessage(WAIT, WorkerNodeTest::skipRegister).get(0));
    inbox.tell(start("worker-g", 0, 5));
    s.replicas().awaitStart().onEnd(12, null, false);
    assertEquals(
        new CoordinatorProtocol.RankDone("job", 5, 0, 12),
        s.coordinator().fishForMessage(WAIT, WorkerNodeTest::skipRegister).get(0));
  }

  /**
   * What reaches a worker's inbox that its coordinator did not mean for it (another job's, an old
   * ring's, another worker's) neither ends, aborts nor restarts it; its own coordinator's next
   * message still does.
   */
  @Test
  void foreignAndStaleMessagesAreIgnored() throws Exception {
    Setup s = registered("worker-f");
    var inbox = s.registration().worker();
    inbox.tell(new WorkerProtocol.RegistrationRefused("worker-x", "not you"));
    inbox.tell(new WorkerProtocol.Registered("job", "worker-f", s.coordinator().ref()));
    inbox.tell(start("worker-f", 1, 4));
    Replica.Events events = s.replicas().awaitStart();

    inbox.tell(new WorkerProtocol.Release("other-job", 4, false, "not yours"));
    inbox.tell(new WorkerProtocol.Abort("other-job", 4, "not yours"));
    inbox.tell(new WorkerProtocol.Abort("job", 3, "an old ring's"));
    inbox.tell(new WorkerProtocol.Release("job", 2, false, "an old ring's"));
    inbox.tell(new WorkerProtocol.Registered("other-job", "worker-f", s.coordinator().ref()));
    assertEquals(null, s.replicas().stopped.poll(500, TimeUnit.MILLISECONDS), "replica stopped");
    assertTrue(!s.exit().isDone(), "the worker ended on a foreign message");
    s.coordinator().expectNoMessage(Duration.ofMillis(100));

    inbox.tell(new WorkerProtocol.Abort("job", 4, "worker-h lost"));
    assertEquals("rank 1", s.replicas().stopped.poll(10, TimeUnit.SECONDS));
    events.onEnd(11, "stopped", true);
    assertEquals(
        new CoordinatorProtocol.Stopped("job", 4, "worker-f"),
        s.coordinator().fishForMessage(WAIT, WorkerNodeTest::skipRegister).get(0));
    // Waiting: a ring that does not place this worker where it says, or an older one, is no ring.
    inbox.tell(start("worker-z", 0, 5));
    inbox.tell(start("worker-f", 0, 3));
    assertEquals(null, s.replicas().started.poll(500, TimeUnit.MILLISECONDS), "started");
    inbox.tell(start("worker-f", 0, 5));
    s.replicas().awaitStart();
  }

  @Test
  void aRefusedRegistrationEndsTheWorker() throws Exception {
    Setup s = registered("worker-e");
    s.registration()
        .worker()
        .tell(new WorkerProtocol.RegistrationRefused("worker-e", "already has 2 workers"));
    WorkerExit exit = s.exit().get(10, TimeUnit.SECONDS);
    assertEquals(WorkerExit.FAILED, exit.code());
    assertTrue(exit.reason().contains("already has 2 workers"), exit.reason());
  }

  @Test
  void noAnswerWithinTheRegistrationDeadlineEndsTheWorker() throws Exception {
    Setup s = registered("worker-f");
    WorkerExit exit = s.exit().get(20, TimeUnit.SECONDS);
    assertEquals(WorkerExit.FAILED, exit.code());
    assertTrue(exit.reason().contains("within PT5S"), exit.reason());
    // It kept registering until then.
    assertTrue(
        s.coordinator().receiveSeveralMessages(3, WAIT).stream()
            .allMatch(m -> m instanceof CoordinatorProtocol.Register));
  }

  private static org.apache.pekko.actor.testkit.typed.FishingOutcome skipRegister(
      CoordinatorProtocol.Command m) {
    return m instanceof CoordinatorProtocol.Register
        ? FishingOutcomes.continueAndIgnore()
        : FishingOutcomes.complete();
  }
}
