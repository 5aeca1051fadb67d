package io.scoreflow.worker.exchange.ring;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.scoreflow.worker.exchange.ExchangeException;
import io.scoreflow.worker.exchange.ExchangeReducer;
import io.scoreflow.worker.exchange.PeerAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The ring behind the worker's exchange seam, over real loopback gRPC, each rank on its own thread
 * (the multi-process runs are in {@code RingProcessTest} and the CLI's distributed tests).
 */
class RingExchangeTest {

  private final List<RingExchange> servers = new ArrayList<>();
  private final ExecutorService pool = Executors.newCachedThreadPool();

  @AfterEach
  void closeAll() {
    servers.forEach(RingExchange::close);
    pool.shutdownNow();
  }

  private List<PeerAddress> ring(int world, Duration deadline) {
    List<PeerAddress> ring = new ArrayList<>();
    for (int r = 0; r < world; r++) {
      String id = String.format("worker-%03d", r);
      RingExchange s = RingExchange.start(id, "127.0.0.1", 0, deadline);
      servers.add(s);
      ring.add(new PeerAddress(r, id, "127.0.0.1", s.port()));
    }
    return ring;
  }

  private static float[][] gradients(int world, int size, long seed) {
    Random random = new Random(seed);
    float[][] g = new float[world][size];
    for (float[] row : g) {
      for (int i = 0; i < size; i++) {
        row[i] = (float) random.nextGaussian();
      }
    }
    return g;
  }

  private List<Future<float[][]>> run(
      List<PeerAddress> ring, String job, long[] generations, float[][][] perStep) {
    List<Future<float[][]>> results = new ArrayList<>();
    for (int r = 0; r < ring.size(); r++) {
      int rank = r;
      results.add(
          pool.submit(
              () -> {
                try (NDManager manager = NDManager.newBaseManager();
                    ExchangeReducer reducer =
                        servers.get(rank).open(job, generations[rank], rank, ring)) {
                  float[][] out = new float[perStep.length][];
                  for (int step = 0; step < perStep.length; step++) {
                    try (NDManager scope = manager.newSubManager()) {
                      NDArray mean =
                          reducer.allReduceMean(scope.create(perStep[step][rank]), step, scope);
                      out[step] = mean.toFloatArray();
                    }
                  }
                  return out;
                }
              }));
    }
    return results;
  }

  @Test
  void everyRankGetsTheSameMean() throws Exception {
    int world = 3;
    int size = 300_001; // more than one 1 MiB chunk, not a multiple of the world
    List<PeerAddress> ring = ring(world, Duration.ofSeconds(60));
    float[][][] steps = {gradients(world, size, 1), gradients(world, size, 2)};
    List<Future<float[][]>> results = run(ring, "job", new long[] {4, 4, 4}, steps);
    float[][][] got = new float[world][][];
    for (int r = 0; r < world; r++) {
      got[r] = results.get(r).get(120, TimeUnit.SECONDS);
    }
    for (int step = 0; step < steps.length; step++) {
      for (int i = 0; i < size; i++) {
        double sum = 0;
        for (int r = 0; r < world; r++) {
          sum += steps[step][r][i];
        }
        // Three float additions and a division: a few ulps of the largest term at most.
        assertEquals(sum / world, got[0][step][i], 1e-5, "step " + step + " element " + i);
      }
      for (int r = 1; r < world; r++) {
        assertArrayEquals(got[0][step], got[r][step], "rank " + r + " differs at step " + step);
      }
    }
  }

  @Test
  void aWorldOfOneIsTheIdentity() {
    List<PeerAddress> ring = ring(1, Duration.ofSeconds(5));
    try (NDManager manager = NDManager.newBaseManager();
        ExchangeReducer reducer = servers.get(0).open("job", 1, 0, ring)) {
      NDArray g = manager.create(new float[] {1, 2, 3});
      assertArrayEquals(new float[] {1, 2, 3}, reducer.allReduceMean(g, 0, manager).toFloatArray());
    }
  }

  @Test
  void aPeerOfAnotherGenerationNeverConnects() {
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
  void anotherWorkerAtTheNeighboursAddressIsNotTakenForIt() {
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

  @Test
  void closingFromAnotherThreadAbortsAStepInFlight() throws Exception {
    List<PeerAddress> ring = ring(2, Duration.ofSeconds(60));
    Future<ExchangeReducer> peer = pool.submit(() -> servers.get(1).open("job", 1, 1, ring));
    ExchangeReducer rank0 = servers.get(0).open("job", 1, 0, ring);
    try (NDManager manager = NDManager.newBaseManager()) {
      pool.submit(
          () -> {
            Thread.sleep(500);
            rank0.close();
            return null;
          });
      long start = System.nanoTime();
      ExchangeException e =
          assertThrows(
              ExchangeException.class,
              () -> rank0.allReduceMean(manager.create(new float[] {1}), 0, manager));
      assertTrue((System.nanoTime() - start) / 1e9 < 20, "close did not wake the step");
      assertTrue(e.getMessage().contains("step 0"), e.getMessage());
    } finally {
      peer.get(30, TimeUnit.SECONDS).close();
    }
  }
}
