package io.scoreflow.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.scoreflow.proto.cluster.ClusterNodes;
import io.scoreflow.proto.cluster.CoordinatorProtocol;
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
import org.junit.jupiter.api.TestInstance;

/**
 * What the coordinator's behaviour tests share: an actor test kit in manual time (one per test
 * class), probes for workers, and the job they train.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class CoordinatorFixture {

  final ActorTestKit kit =
      ActorTestKit.create(
          getClass().getSimpleName(),
          ManualTime.config().withFallback(ClusterNodes.node("127.0.0.1", 0, null, "coordinator")));
  final ManualTime time = ManualTime.get(kit.system());

  @AfterAll
  void shutdown() {
    kit.shutdownTestKit();
  }

  static final Duration WAIT = Duration.ofSeconds(10);

  JobSpec spec(int workers, int minWorkers) {
    return spec("job-a", workers, minWorkers);
  }

  /** Job {@code job} in /tmp/run (a path nothing reads): 100 steps of a global batch of 12. */
  static JobSpec spec(String job, int workers, int minWorkers) {
    return new JobSpec(
        job,
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
  record Worker(String id, TestProbe<WorkerProtocol.Command> probe) {
    ActorRef<WorkerProtocol.Command> ref() {
      return probe.ref();
    }
  }

  Worker register(ActorRef<CoordinatorProtocol.Command> coordinator, String id) {
    TestProbe<WorkerProtocol.Command> probe = kit.createTestProbe();
    coordinator.tell(new CoordinatorProtocol.Register(id, "127.0.0.1", 7000, "cpu", probe.ref()));
    WorkerProtocol.Registered ok = probe.expectMessageClass(WorkerProtocol.Registered.class, WAIT);
    assertEquals(id, ok.workerId());
    return new Worker(id, probe);
  }

  CoordinatorProtocol.StepReport report(
      long generation, int rank, long step, double loss, String checksum) {
    return new CoordinatorProtocol.StepReport(
        "job-a", generation, rank, step, loss, 6, 2_000_000, 1_000_000, 500_000, checksum, 1.5);
  }

  /** Two registered workers, their ring formed and step 0 agreed. */
  List<Worker> trainingPair(ActorRef<CoordinatorProtocol.Command> c, TestProbe<JobEvent> e) {
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
  record Checkpoints(java.util.NavigableSet<Long> steps) implements CheckpointCatalog {
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
}
