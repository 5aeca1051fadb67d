package io.scoreflow.worker.exchange.ring;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoreflow.security.TransportSecurity;
import io.scoreflow.worker.exchange.ExchangeContractTest;
import io.scoreflow.worker.exchange.ExchangeException;
import io.scoreflow.worker.exchange.ExchangeReducer;
import io.scoreflow.worker.exchange.ExchangeServer;
import io.scoreflow.worker.exchange.PeerAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The gRPC ring all-reduce: the exchange contract, and what only the ring does: peers fenced by
 * their identity and generation while connecting, each refusal naming what it saw.
 */
class RingExchangeTest extends ExchangeContractTest {

  @Override
  protected ExchangeServer start(String workerId, Duration deadline) {
    return RingExchange.start(workerId, "127.0.0.1", 0, deadline, TransportSecurity.plaintext());
  }

  @Test
  void aPeerOfAnotherGenerationNeverConnects() throws Exception {
    List<PeerAddress> ring = ring(2, Duration.ofSeconds(3));
    List<Future<float[][]>> results =
        run(ring, "job", new long[] {2, 1}, new float[][][] {gradients(2, 10, 3)});
    // Rank 1 (generation 1) finds its right neighbour, rank 0, at generation 2, and rank 0 never
    // hears rank 1 claim generation 2: both give up at the deadline, naming what they saw.
    ExecutionException stale =
        assertThrows(ExecutionException.class, () -> results.get(1).get(30, TimeUnit.SECONDS));
    assertTrue(stale.getCause() instanceof ExchangeException, String.valueOf(stale.getCause()));
    assertTrue(
        stale.getCause().getMessage().contains("did not join generation 1"),
        stale.getCause().getMessage());
    assertTrue(
        stale.getCause().getMessage().contains("is rank 0 of generation 2"),
        stale.getCause().getMessage());
    ExecutionException waited =
        assertThrows(ExecutionException.class, () -> results.get(0).get(30, TimeUnit.SECONDS));
    assertTrue(
        waited.getCause().getMessage().contains("did not join generation 2"),
        waited.getCause().getMessage());
  }

  @Test
  void anotherWorkerAtTheNeighboursAddressIsNotTakenForIt() throws Exception {
    // The deadline bounds how long rank 0 keeps asking; it must leave room for the stranger's
    // answer to arrive on a loaded 2-core machine (3 s was seen to expire before the first answer).
    List<PeerAddress> ring = ring(2, Duration.ofSeconds(15));
    // The coordinator says worker-001 listens at rank 1's port; a stranger answers there.
    List<PeerAddress> wrong =
        List.of(ring.get(0), new PeerAddress(1, "worker-009", "127.0.0.1", ring.get(1).port()));
    Future<ExchangeReducer> peer = pool.submit(() -> servers.get(1).open("job", 1, 1, ring));
    ExchangeException e =
        assertThrows(ExchangeException.class, () -> servers.get(0).open("job", 1, 0, wrong));
    assertTrue(e.getMessage().contains("rank 1 (worker-009) did not join"), e.getMessage());
    assertTrue(e.getMessage().contains("worker-001 is rank 1 of generation 1"), e.getMessage());
    // Rank 1's own neighbour is the real rank 0: it connects.
    assertDoesNotThrow(() -> peer.get(30, TimeUnit.SECONDS).close());
  }

  @Test
  void anOlderGenerationIsRefusedOnceANewerOneOpened() throws Exception {
    List<PeerAddress> ring = ring(2, Duration.ofSeconds(30));
    Future<ExchangeReducer> peer = pool.submit(() -> servers.get(1).open("job", 5, 1, ring));
    try (ExchangeReducer newer = servers.get(0).open("job", 5, 0, ring)) {
      ExchangeException e =
          assertThrows(ExchangeException.class, () -> servers.get(0).open("job", 4, 0, ring));
      assertTrue(e.getMessage().contains("already at generation 5"), e.getMessage());
    } finally {
      peer.get(30, TimeUnit.SECONDS).close();
    }
  }
}
