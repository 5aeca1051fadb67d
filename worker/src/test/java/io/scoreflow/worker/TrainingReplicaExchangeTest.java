package io.scoreflow.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoreflow.proto.cluster.CoordinatorProtocol;
import io.scoreflow.proto.cluster.RingMember;
import io.scoreflow.proto.cluster.WorkerProtocol;
import io.scoreflow.worker.exchange.ExchangeKind;
import io.scoreflow.worker.exchange.ExchangeReducer;
import io.scoreflow.worker.exchange.ExchangeServer;
import io.scoreflow.worker.exchange.PeerAddress;
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
            12,
            "scoreflow.cluster.exchange = ring",
            "/nonexistent");
    Replica replica =
        TrainingReplica.launcher(
                new ExchangeServer() {
                  @Override
                  public int port() {
                    return 1;
                  }

                  @Override
                  public ExchangeReducer open(
                      String name,
                      long generation,
                      int rank,
                      List<PeerAddress> ring,
                      io.scoreflow.worker.exchange.Wire wire) {
                    opened.set(true);
                    throw new IllegalStateException("must not be reached");
                  }

                  @Override
                  public void close() {}
                },
                ExchangeKind.STAR,
                "cpu")
            .start(
                job,
                new Replica.Events() {
                  @Override
                  public void onStep(CoordinatorProtocol.StepReport report) {}

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
