package io.scoreflow.worker.exchange.star;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoreflow.worker.exchange.ExchangeContractTest;
import io.scoreflow.worker.exchange.ExchangeServer;
import io.scoreflow.worker.exchange.PeerAddress;
import io.scoreflow.worker.exchange.TestCertificates;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The star over mutual TLS (TLS records over its non-blocking sockets): the exchange contract
 * again, and an admitted worker that claims another's rank refused by rank 0.
 */
class StarTlsExchangeTest extends ExchangeContractTest {

  @Override
  protected ExchangeServer start(String workerId, Duration deadline) throws Exception {
    return StarExchange.start("127.0.0.1", 0, deadline, TestCertificates.tls(workerId));
  }

  @Test
  void aWorkerClaimingAnothersRankIsRefused() throws Exception {
    List<PeerAddress> ring = ring(3, Duration.ofSeconds(20));
    float[][][] grads = {gradients(3, 500, 21)};
    Future<float[][]> hub = rank(ring, 0, "job", 1, new long[] {0}, grads);
    // worker-002's process, told it is rank 1: its certificate names worker-002, rank 1 is
    // worker-001.
    List<PeerAddress> lie =
        List.of(ring.get(0), new PeerAddress(1, "worker-001", "127.0.0.1", ring.get(2).port()));
    ExchangeServer impostorServer = servers.get(2);
    Future<Object> impostor =
        pool.submit(
            () -> impostorServer.open("job", 1, 1, List.of(lie.get(0), lie.get(1), ring.get(2))));
    assertTrue(
        failure(impostor).getMessage().contains("certificate names worker worker-002"),
        "the refusal names who it really is");
    Future<float[][]> rank1 = rank(ring, 1, "job", 1, new long[] {0}, grads);
    Future<float[][]> rank2 = rank(ring, 2, "job", 1, new long[] {0}, grads);
    float[][] got = hub.get(60, TimeUnit.SECONDS);
    assertArrayEquals(got[0], rank1.get(60, TimeUnit.SECONDS)[0]);
    assertArrayEquals(got[0], rank2.get(60, TimeUnit.SECONDS)[0]);
  }
}
