package io.scoreflow.worker.exchange.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status.Code;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A stuck or missing peer ends the step with a clear status within the deadline, never a hang. */
class RingDeadlineTest {

  @Test
  void aPeerThatNeverSendsEndsTheStepAtTheDeadline() {
    try (LoopbackRing ring = new LoopbackRing(2)) {
      ring.join("job", 1, 1 << 20, WireEncoding.FP32, Duration.ofMillis(1000));
      // Rank 1 never runs the step: it holds rank 0's stream and sends nothing. 3 Mi elements in
      // chunks of 256 Ki: 2 segments of 6 chunks, received twice (reduce-scatter, all-gather).
      float[] buffer = new float[3 << 20];
      long start = System.nanoTime();
      StatusRuntimeException e =
          assertThrows(
              StatusRuntimeException.class,
              () -> ring.rings.get(0).allReduce(buffer, 9, ReduceOp.SUM));
      double seconds = (System.nanoTime() - start) / 1e9;
      assertEquals(Code.DEADLINE_EXCEEDED, e.getStatus().getCode(), e.getMessage());
      assertTrue(seconds >= 0.9 && seconds < 3, "ended after " + seconds + " s");
      assertTrue(
          e.getStatus().getDescription().contains("all-reduce of step 9 (job 'job' generation 1")
              && e.getStatus().getDescription().contains("received 0 of 12 chunks from rank 1"),
          e.getStatus().getDescription());
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void oneStuckRankEndsEveryOtherRankNearTheDeadline() throws Exception {
    try (LoopbackRing ring = new LoopbackRing(3)) {
      ring.join("job", 1, 4096, WireEncoding.FP32, Duration.ofMillis(1000));
      float[][] b = RingAllReduceTest.buffers(3, 100_000, 0);
      long start = System.nanoTime();
      Future<?> r0 = ring.submit(0, b[0], 0, ReduceOp.SUM);
      Future<?> r1 = ring.submit(1, b[1], 0, ReduceOp.SUM);
      for (Future<?> f : new Future<?>[] {r0, r1}) {
        ExecutionException failed =
            assertThrows(ExecutionException.class, () -> f.get(5, TimeUnit.SECONDS));
        StatusRuntimeException e =
            assertInstanceOf(StatusRuntimeException.class, failed.getCause());
        // Its own deadline, or the news of a neighbour's: the next rank ended its stream
        // (ABORTED) or the previous one cancelled the stream it was sending (UNAVAILABLE).
        assertTrue(
            Set.of(Code.DEADLINE_EXCEEDED, Code.ABORTED, Code.UNAVAILABLE)
                .contains(e.getStatus().getCode()),
            e.getMessage());
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      assertTrue(seconds < 3, "ended after " + seconds + " s");
    }
  }

  @Test
  void aPeerThatIsGoneFailsFastWithUnavailable() throws Exception {
    try (LoopbackRing ring = new LoopbackRing(2)) {
      ring.join("job", 1, 4096, WireEncoding.FP32, Duration.ofSeconds(10));
      ring.endpoints.get(1).close();
      long start = System.nanoTime();
      StatusRuntimeException e =
          assertThrows(
              StatusRuntimeException.class,
              () -> ring.rings.get(0).allReduce(new float[1000], 0, ReduceOp.SUM));
      assertEquals(Code.UNAVAILABLE, e.getStatus().getCode(), e.getMessage());
      assertTrue((System.nanoTime() - start) / 1e9 < 5, "took the whole deadline");
    }
  }
}
