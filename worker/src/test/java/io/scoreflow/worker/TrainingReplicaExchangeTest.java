package io.scoreflow.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoreflow.coordinator.Coordinator;
import io.scoreflow.coordinator.RingMember;
import io.scoreflow.coordinator.WorkerProtocol;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** A worker refuses a job whose config names another exchange, before it touches its peers. */
class TrainingReplicaExchangeTest {

  @Test
  void aStarWorkerRefusesARingJobWithoutOpeningTheExchange() throws Exception {
    AtomicBoolean opened = new AtomicBoolean();
    CompletableFuture<String> failure = new CompletableFuture<>();
    WorkerProtocol.StartJob job =
        new WorkerProtocol.StartJob(
            "j",
            1,
            0,
            List.of(
                new RingMember(0, "worker-000", "127.0.0.1", 1, "cpu"),
                new RingMember(1, "worker-001", "127.0.0.1", 2, "cpu")),
            0,
            10,
            "scoreflow.cluster.exchange = ring",
            "/nonexistent");
    Replica replica =
        TrainingReplica.launcher(
                (name, generation, rank, ring) -> {
                  opened.set(true);
                  throw new IllegalStateException("must not be reached");
                },
                ExchangeKind.STAR,
                "cpu")
            .start(
                job,
                new Replica.Events() {
                  @Override
                  public void onStep(Coordinator.StepReport report) {}

                  @Override
                  public void onEnd(long step, String why, boolean inExchange) {
                    // A mismatch of configuration is no fault of a peer: no new ring would help.
                    failure.complete(inExchange ? "in exchange: " + why : why);
                  }
                });
    String why = failure.get(60, TimeUnit.SECONDS);
    replica.stop();
    assertEquals(
        "job j exchanges gradients by 'ring' but this worker runs 'star' (start it with"
            + " --exchange ring)",
        why);
    assertFalse(opened.get(), "the exchange was opened");
    assertTrue(ExchangeKind.parse("star", "x") == ExchangeKind.STAR);
  }
}
