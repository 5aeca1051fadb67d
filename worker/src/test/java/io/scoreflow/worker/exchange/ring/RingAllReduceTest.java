package io.scoreflow.worker.exchange.ring;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.scoreflow.proto.v1.GradientExchangeGrpc;
import io.scoreflow.proto.v1.PingReply;
import io.scoreflow.proto.v1.PingRequest;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Ring all-reduce over real gRPC on loopback TCP, 1–3 ranks in one JVM. */
class RingAllReduceTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(20);

  /** Small integers: every partial sum is exact in float32, whatever the order. */
  static float value(int rank, int i, long step) {
    return (float) (((i * 7L + rank * 13L + step * 5L) % 101) - 50);
  }

  static float[][] buffers(int world, int elements, long step) {
    float[][] b = new float[world][elements];
    for (int r = 0; r < world; r++) {
      for (int i = 0; i < elements; i++) {
        b[r][i] = value(r, i, step);
      }
    }
    return b;
  }

  static float[] exactSum(int world, int elements, long step) {
    float[] sum = new float[elements];
    for (int i = 0; i < elements; i++) {
      long s = 0;
      for (int r = 0; r < world; r++) {
        s += (long) value(r, i, step);
      }
      sum[i] = s;
    }
    return sum;
  }

  @ParameterizedTest(name = "{0} ranks, {1} elements, chunks of {2} bytes")
  @CsvSource({
    "2, 1, 64",
    "2, 2, 64",
    "2, 1001, 64",
    "2, 4096, 1024",
    "3, 1, 64",
    "3, 2, 64",
    "3, 3, 4",
    "3, 1000, 64",
    "3, 10007, 4000",
    "3, 10007, 4194304",
    "3, 0, 64",
  })
  void sumOfSmallIntegersIsBitExactOnEveryRank(int world, int elements, int chunkBytes)
      throws Exception {
    try (LoopbackRing ring = LoopbackRing.started(world, chunkBytes, WireEncoding.FP32, TIMEOUT)) {
      float[][] b = buffers(world, elements, 7);
      long start = System.nanoTime();
      ring.allReduce(b, 7, ReduceOp.SUM);
      // Far below the deadline: a missed wake-up would only end at the deadline, and still pass.
      assertTrue(System.nanoTime() - start < TIMEOUT.toNanos() / 4, "took most of the deadline");
      float[] expected = exactSum(world, elements, 7);
      for (int r = 0; r < world; r++) {
        assertArrayEquals(expected, b[r], 0f, "rank " + r);
      }
    }
  }

  @Test
  void successiveStepsReuseTheRing() throws Exception {
    try (LoopbackRing ring = LoopbackRing.started(3, 256, WireEncoding.FP32, TIMEOUT)) {
      for (long step = 0; step < 5; step++) {
        int elements = 500 + (int) step; // the buffer size may change between steps
        float[][] b = buffers(3, elements, step);
        ring.allReduce(b, step, ReduceOp.SUM);
        for (int r = 0; r < 3; r++) {
          assertArrayEquals(exactSum(3, elements, step), b[r], 0f, "step " + step + " rank " + r);
        }
      }
    }
  }

  @ParameterizedTest(name = "{0} ranks")
  @CsvSource({"2", "3"})
  void meanOfRandomFloatsMatchesAndReplicasAreBitIdentical(int world) throws Exception {
    int elements = 50_001;
    Random random = new Random(42);
    float[][] b = new float[world][elements];
    double[] sum = new double[elements];
    double[] sumAbs = new double[elements];
    for (int r = 0; r < world; r++) {
      for (int i = 0; i < elements; i++) {
        b[r][i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(7) - 3));
        sum[i] += b[r][i];
        sumAbs[i] += Math.abs(b[r][i]);
      }
    }
    try (LoopbackRing ring = LoopbackRing.started(world, 16 << 10, WireEncoding.FP32, TIMEOUT)) {
      ring.allReduce(b, 1, ReduceOp.MEAN);
    }
    for (int i = 0; i < elements; i++) {
      // world - 1 float additions and one division, each off by at most half an ulp.
      assertEquals(sum[i] / world, b[0][i], 1e-6 * sumAbs[i] / world, "element " + i);
    }
    for (int r = 1; r < world; r++) {
      assertArrayEquals(b[0], b[r], 0f, "replica " + r + " differs from rank 0");
    }
  }

  @Test
  void meanOfSmallIntegersIsTheRoundedQuotient() throws Exception {
    int world = 3;
    int elements = 1234;
    float[][] b = buffers(world, elements, 2);
    try (LoopbackRing ring = LoopbackRing.started(world, 400, WireEncoding.FP32, TIMEOUT)) {
      ring.allReduce(b, 2, ReduceOp.MEAN);
    }
    float[] sum = exactSum(world, elements, 2);
    for (int i = 0; i < elements; i++) {
      for (int r = 0; r < world; r++) {
        assertEquals(sum[i] / world, b[r][i], 0f, "rank " + r + " element " + i);
      }
    }
  }

  @Test
  void pingNamesTheWorkerItsRankAndGeneration() throws Exception {
    try (LoopbackRing ring = LoopbackRing.started(2, 64, WireEncoding.FP32, TIMEOUT)) {
      ManagedChannel channel = RingTransport.channel(ring.addresses.get(1));
      try {
        PingReply reply =
            GradientExchangeGrpc.newBlockingStub(channel)
                .withDeadlineAfter(5, TimeUnit.SECONDS)
                .ping(PingRequest.newBuilder().setJob("job").setGeneration(3).build());
        assertEquals("w1", reply.getWorkerId());
        assertEquals(1, reply.getRank());
        assertEquals(3, reply.getGeneration());
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void oneRankIsTheIdentityWithoutNetwork() throws Exception {
    try (LoopbackRing ring = LoopbackRing.started(1, 64, WireEncoding.FP32, TIMEOUT)) {
      float[] b = {1.5f, -2f, 3f};
      float[] before = b.clone();
      ring.rings.get(0).allReduce(b, 0, ReduceOp.SUM);
      ring.rings.get(0).allReduce(b, 1, ReduceOp.MEAN);
      assertArrayEquals(before, b, 0f);
    }
  }

  @Test
  void bf16WireKeepsFp32AccumulationAndIdenticalReplicas() throws Exception {
    int world = 3;
    int elements = 20_011;
    Random random = new Random(7);
    float[][] b = new float[world][elements];
    double[] sum = new double[elements];
    for (int r = 0; r < world; r++) {
      for (int i = 0; i < elements; i++) {
        b[r][i] = (float) random.nextGaussian();
        sum[i] += b[r][i];
      }
    }
    try (LoopbackRing ring = LoopbackRing.started(world, 1000, WireEncoding.BF16, TIMEOUT)) {
      ring.allReduce(b, 4, ReduceOp.SUM);
    }
    double scale = 0;
    for (int i = 0; i < elements; i++) {
      scale = Math.max(scale, Math.abs(sum[i]));
    }
    for (int i = 0; i < elements; i++) {
      // Each hop rounds to 8 significant bits: relative error 2^-9 per rounding, a few roundings.
      assertEquals(sum[i], b[0][i], 3 * 3 * Math.pow(2, -9) * 3, "element " + i);
      assertEquals(b[0][i], Bf16.round(b[0][i]), 0f, "the result is a bf16 value");
    }
    for (int r = 1; r < world; r++) {
      assertArrayEquals(b[0], b[r], 0f, "replica " + r);
    }
  }
}
