package io.scoreflow.worker.exchange.star;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import io.scoreflow.security.TransportSecurity;
import io.scoreflow.worker.exchange.ExchangeContractTest;
import io.scoreflow.worker.exchange.ExchangeException;
import io.scoreflow.worker.exchange.ExchangeReducer;
import io.scoreflow.worker.exchange.ExchangeServer;
import io.scoreflow.worker.exchange.PeerAddress;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The star exchange: the exchange contract, and what only the star promises: the mean summed in
 * rank order exactly, and refusals that name the generation and step they saw.
 */
class StarExchangeTest extends ExchangeContractTest {

  @Override
  protected ExchangeServer start(String workerId, Duration deadline) throws IOException {
    return StarExchange.start("127.0.0.1", 0, deadline, TransportSecurity.plaintext());
  }

  @Test
  void everyRankGetsTheSameMeanSummedInRankOrder() throws Exception {
    int world = 3;
    List<PeerAddress> ring = ring(world, Duration.ofSeconds(30));
    float[][][] steps = {gradients(world, 1000, 1), gradients(world, 1000, 2)};
    List<Future<float[][]>> results = run(ring, "job", new long[] {4, 4, 4}, steps);
    float[][][] got = new float[world][][];
    for (int r = 0; r < world; r++) {
      got[r] = results.get(r).get(60, TimeUnit.SECONDS);
    }
    for (int step = 0; step < steps.length; step++) {
      float[] expected = new float[1000];
      for (int i = 0; i < expected.length; i++) {
        float s = steps[step][0][i];
        for (int r = 1; r < world; r++) {
          s += steps[step][r][i];
        }
        expected[i] = s / world;
      }
      for (int r = 0; r < world; r++) {
        assertArrayEquals(expected, got[r][step], "rank " + r + " step " + step);
      }
    }
  }

  @Test
  void aPeerOfAnotherGenerationIsRefusedNamingBothGenerations() throws Exception {
    List<PeerAddress> ring = ring(2, Duration.ofSeconds(3));
    float[][][] steps = {gradients(2, 10, 3)};
    List<Future<float[][]>> results = run(ring, "job", new long[] {2, 1}, steps);
    ExecutionException stale =
        assertThrows(ExecutionException.class, () -> results.get(1).get(30, TimeUnit.SECONDS));
    assertTrue(
        stale.getCause().getMessage().contains("generation 1 is not the current 2"),
        stale.getCause().getMessage());
    // Rank 0 keeps waiting for a peer of its generation, and gives up at its deadline.
    ExecutionException waited =
        assertThrows(ExecutionException.class, () -> results.get(0).get(30, TimeUnit.SECONDS));
    assertTrue(
        waited.getCause().getMessage().contains("waited PT3S for the other 1 ranks"),
        waited.getCause().getMessage());
  }

  @Test
  void aSilentPeerCostsAtMostTheDeadline() throws Exception {
    List<PeerAddress> ring = ring(2, Duration.ofSeconds(2));
    Future<ExchangeReducer> peer = pool.submit(() -> servers.get(1).open("job", 1, 1, ring));
    try (NDManager manager = NDManager.newBaseManager();
        ExchangeReducer hub = servers.get(0).open("job", 1, 0, ring)) {
      long start = System.nanoTime();
      ExchangeException e =
          assertThrows(
              ExchangeException.class,
              () -> hub.allReduceMean(manager.create(new float[] {1}), 7, manager));
      double seconds = (System.nanoTime() - start) / 1e9;
      assertTrue(e.getMessage().contains("step 7"), e.getMessage());
      assertTrue(e.getMessage().contains("deadline passed"), e.getMessage());
      assertTrue(seconds >= 1.5 && seconds < 10, "waited " + seconds + " s");
    } finally {
      peer.get(10, TimeUnit.SECONDS).close();
    }
  }

  @Test
  void aFrameOfAnotherStepIsRefused() throws Exception {
    List<PeerAddress> ring = ring(2, Duration.ofSeconds(10));
    Future<float[]> spoke =
        pool.submit(
            () -> {
              try (NDManager manager = NDManager.newBaseManager();
                  ExchangeReducer r = servers.get(1).open("job", 1, 1, ring)) {
                return r.allReduceMean(manager.create(new float[] {1, 2}), 5, manager)
                    .toFloatArray();
              }
            });
    try (NDManager manager = NDManager.newBaseManager();
        ExchangeReducer hub = servers.get(0).open("job", 1, 0, ring)) {
      ExchangeException e =
          assertThrows(
              ExchangeException.class,
              () -> hub.allReduceMean(manager.create(new float[] {1, 2}), 4, manager));
      assertTrue(e.getMessage().contains("step 5"), e.getMessage());
      assertTrue(e.getMessage().contains("expected generation 1 step 4"), e.getMessage());
    }
    assertThrows(ExecutionException.class, () -> spoke.get(30, TimeUnit.SECONDS));
    assertEquals(2, ring.size());
  }
}
