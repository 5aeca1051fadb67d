package io.scoreflow.worker.exchange;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What every gradient exchange promises a training step, checked on real loopback sockets with each
 * rank on its own thread: the mean summed element by element and identical on every rank; fencing
 * by (job, generation, step); a peer that dies mid-step fails its neighbours' step instead of
 * hanging it; and a server that closes leaves no port bound and no thread running. Each
 * implementation runs it through a subclass that says how to start its server.
 */
public abstract class ExchangeContractTest {

  protected final List<ExchangeServer> servers = new ArrayList<>();
  protected final ExecutorService pool = Executors.newCachedThreadPool();

  /** Starts worker {@code workerId}'s server on a free loopback port. */
  protected abstract ExchangeServer start(String workerId, Duration deadline) throws Exception;

  @AfterEach
  void closeAll() {
    servers.forEach(ExchangeServer::close);
    pool.shutdownNow();
  }

  /** Starts {@code world} servers on loopback and returns the ring in rank order. */
  protected List<PeerAddress> ring(int world, Duration deadline) throws Exception {
    List<PeerAddress> ring = new ArrayList<>();
    for (int r = 0; r < world; r++) {
      String id = String.format("worker-%03d", r);
      ExchangeServer s = start(id, deadline);
      servers.add(s);
      ring.add(new PeerAddress(r, id, "127.0.0.1", s.port()));
    }
    return ring;
  }

  protected static float[][] gradients(int world, int size, long seed) {
    Random random = new Random(seed);
    float[][] g = new float[world][size];
    for (float[] row : g) {
      for (int i = 0; i < size; i++) {
        row[i] = (float) random.nextGaussian();
      }
    }
    return g;
  }

  /**
   * Rank {@code rank} opens its reducer for ({@code job}, {@code generation}) and reduces one
   * gradient per entry of {@code steps} under that step number.
   */
  protected Future<float[][]> rank(
      List<PeerAddress> ring,
      int rank,
      String job,
      long generation,
      long[] steps,
      float[][][] gradients) {
    return pool.submit(
        () -> {
          try (NDManager manager = NDManager.newBaseManager();
              ExchangeReducer reducer = servers.get(rank).open(job, generation, rank, ring)) {
            float[][] out = new float[steps.length][];
            for (int i = 0; i < steps.length; i++) {
              try (NDManager scope = manager.newSubManager()) {
                NDArray mean =
                    reducer.allReduceMean(scope.create(gradients[i][rank]), steps[i], scope);
                out[i] = mean.toFloatArray();
              }
            }
            return out;
          }
        });
  }

  /**
   * Every rank reduces the gradients of {@code perStep} (step {@code i} under step number {@code
   * i}), rank {@code r} under {@code generations[r]}.
   */
  protected List<Future<float[][]>> run(
      List<PeerAddress> ring, String job, long[] generations, float[][][] perStep) {
    long[] steps = new long[perStep.length];
    for (int i = 0; i < steps.length; i++) {
      steps[i] = i;
    }
    List<Future<float[][]>> ranks = new ArrayList<>();
    for (int r = 0; r < ring.size(); r++) {
      ranks.add(rank(ring, r, job, generations[r], steps, perStep));
    }
    return ranks;
  }

  /** The exchange failure that ended {@code f}. */
  protected static ExchangeException failure(Future<?> f) {
    ExecutionException e =
        assertThrows(ExecutionException.class, () -> f.get(60, TimeUnit.SECONDS));
    return assertInstanceOf(ExchangeException.class, e.getCause(), "the failure's type");
  }

  @Test
  void everyRankGetsTheSameMeanElementByElement() throws Exception {
    int world = 3;
    // More than one chunk of the ring's default 1 MiB, and not a multiple of the world size.
    int size = 300_001;
    List<PeerAddress> ring = ring(world, Duration.ofSeconds(30));
    float[][][] grads = {gradients(world, size, 1), gradients(world, size, 2)};
    long[] steps = {0, 1};
    List<Future<float[][]>> ranks = new ArrayList<>();
    for (int r = 0; r < world; r++) {
      ranks.add(rank(ring, r, "job", 1, steps, grads));
    }
    float[][][] got = new float[world][][];
    for (int r = 0; r < world; r++) {
      got[r] = ranks.get(r).get(60, TimeUnit.SECONDS);
    }
    for (int s = 0; s < steps.length; s++) {
      for (int r = 1; r < world; r++) {
        assertArrayEquals(got[0][s], got[r][s], "rank " + r + " differs from rank 0 at step " + s);
      }
      for (int i = 0; i < size; i++) {
        double exact = 0;
        double magnitude = 0;
        for (int r = 0; r < world; r++) {
          exact += grads[s][r][i];
          magnitude += Math.abs(grads[s][r][i]);
        }
        exact /= world;
        // A float sum of n terms, in any order, is within (n-1)u·Σ|g| of the exact sum (u =
        // 2^-24), and the division by n adds u·|sum|: the mean is within u·Σ|g| of the exact one.
        double bound = 0x1p-24 * magnitude;
        assertEquals(exact, got[0][s][i], bound, "step " + s + " element " + i);
      }
    }
  }

  @Test
  void aRingOfOneIsTheIdentity() throws Exception {
    List<PeerAddress> ring = ring(1, Duration.ofSeconds(5));
    float[][][] grads = {gradients(1, 7, 3)};
    float[][] got = rank(ring, 0, "job", 1, new long[] {0}, grads).get(60, TimeUnit.SECONDS);
    assertArrayEquals(grads[0][0], got[0]);
  }

  @Test
  void aPeerOfAnotherGenerationIsRefused() throws Exception {
    List<PeerAddress> ring = ring(2, Duration.ofSeconds(3));
    float[][][] grads = {gradients(2, 100, 4)};
    Future<float[][]> current = rank(ring, 0, "job", 2, new long[] {0}, grads);
    Future<float[][]> stale = rank(ring, 1, "job", 1, new long[] {0}, grads);
    failure(stale);
    // The current rank never gets a peer of its generation: its step fails at its deadline.
    failure(current);
  }

  @Test
  void aPeerOfAnotherJobIsRefused() throws Exception {
    List<PeerAddress> ring = ring(2, Duration.ofSeconds(3));
    float[][][] grads = {gradients(2, 100, 5)};
    Future<float[][]> ours = rank(ring, 0, "job", 1, new long[] {0}, grads);
    Future<float[][]> foreign = rank(ring, 1, "another-job", 1, new long[] {0}, grads);
    failure(foreign);
    failure(ours);
  }

  @Test
  void aPeerAtAnotherStepIsRefused() throws Exception {
    List<PeerAddress> ring = ring(2, Duration.ofSeconds(3));
    float[][][] grads = {gradients(2, 100, 6)};
    Future<float[][]> at4 = rank(ring, 0, "job", 1, new long[] {4}, grads);
    Future<float[][]> at5 = rank(ring, 1, "job", 1, new long[] {5}, grads);
    failure(at4);
    failure(at5);
  }

  @Test
  void aPeerThatDiesMidStepFailsItsNeighboursStep() throws Exception {
    int world = 3;
    List<PeerAddress> ring = ring(world, Duration.ofSeconds(5));
    float[][][] grads = {gradients(world, 1000, 7), gradients(world, 1000, 8)};
    // Rank 2 reduces step 0 with the others, opens step 1's reduction late and dies in it: its
    // server closes, as when its process is killed.
    List<Future<float[][]>> survivors = new ArrayList<>();
    for (int r = 0; r < world - 1; r++) {
      survivors.add(rank(ring, r, "job", 1, new long[] {0, 1}, grads));
    }
    Future<float[][]> dying = rank(ring, world - 1, "job", 1, new long[] {0}, grads);
    dying.get(60, TimeUnit.SECONDS);
    servers.get(world - 1).close();
    for (Future<float[][]> f : survivors) {
      failure(f);
    }
  }

  @Test
  void closingAReducerFromAnotherThreadAbortsItsStepInFlight() throws Exception {
    List<PeerAddress> ring = ring(2, Duration.ofSeconds(60));
    Future<ExchangeReducer> peer = pool.submit(() -> servers.get(1).open("job", 1, 1, ring));
    ExchangeReducer rank0 = servers.get(0).open("job", 1, 0, ring);
    Future<float[]> step =
        pool.submit(
            () -> {
              try (NDManager manager = NDManager.newBaseManager()) {
                return rank0
                    .allReduceMean(manager.create(new float[] {1}), 0, manager)
                    .toFloatArray();
              }
            });
    // The peer never reduces: only the close can end the step, long before its 60 s deadline.
    Thread.sleep(500);
    rank0.close();
    failure(step);
    peer.get(60, TimeUnit.SECONDS).close();
  }

  @Test
  void aSilentPeerFailsTheStepAtTheDeadline() throws Exception {
    List<PeerAddress> ring = ring(2, Duration.ofSeconds(2));
    Future<ExchangeReducer> peer = pool.submit(() -> servers.get(1).open("job", 1, 1, ring));
    float[][][] grads = {gradients(2, 10, 10)};
    // Rank 1 opens its reducer but never reduces: rank 0's step ends at its deadline.
    failure(rank(ring, 0, "job", 1, new long[] {7}, grads));
    peer.get(60, TimeUnit.SECONDS).close();
  }

  @Test
  void closingReleasesThePortAndEveryThread() throws Exception {
    Set<Thread> before = Thread.getAllStackTraces().keySet();
    List<PeerAddress> ring = ring(2, Duration.ofSeconds(10));
    float[][][] grads = {gradients(2, 1000, 9)};
    rank(ring, 0, "job", 1, new long[] {0}, grads);
    rank(ring, 1, "job", 1, new long[] {0}, grads).get(60, TimeUnit.SECONDS);
    servers.forEach(ExchangeServer::close);
    pool.shutdown();
    assertTrue(pool.awaitTermination(60, TimeUnit.SECONDS), "the ranks' threads ended");
    for (PeerAddress p : ring) {
      try (ServerSocket again = new ServerSocket(p.port(), 1, InetAddress.getLoopbackAddress())) {
        assertEquals(p.port(), again.getLocalPort());
      }
    }
    // Threads the exchange started and left running (daemon ones of shared pools, such as gRPC's
    // cached executor, idle out on their own and may outlive a test).
    List<String> left = List.of();
    for (int attempt = 0; attempt < 100; attempt++) {
      left =
          Thread.getAllStackTraces().keySet().stream()
              .filter(t -> !before.contains(t) && t.isAlive() && !t.isDaemon())
              .map(Thread::getName)
              .collect(Collectors.toList());
      if (left.isEmpty()) {
        break;
      }
      Thread.sleep(100);
    }
    assertEquals(List.of(), left, "non-daemon threads left running after close");
  }
}
