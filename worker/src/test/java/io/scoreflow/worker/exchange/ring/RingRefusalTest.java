package io.scoreflow.worker.exchange.ring;

import static io.scoreflow.worker.exchange.ring.RogueSender.chunk;
import static io.scoreflow.worker.exchange.ring.RogueSender.hello;
import static io.scoreflow.worker.exchange.ring.RogueSender.of;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.Status.Code;
import io.grpc.StatusRuntimeException;
import io.scoreflow.proto.v1.RingMessage;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Fencing: a receiver refuses what does not belong to its step with a status that names the
 * problem, and a refused message leaves its buffer as it was.
 *
 * <p>The receiver is rank 1 of a 2-rank ring of job "job", generation 3, running step 5 on 40
 * elements in chunks of 16; its first expected message is chunk 0 of segment 0 (offset 0, 16
 * elements) from rank 0.
 */
class RingRefusalTest {

  private static final int ELEMENTS = 40;
  private static final long STEP = 5;

  static Stream<Arguments> refusals() {
    return Stream.of(
        Arguments.of(
            "stale generation",
            new RingMessage[] {
              of(hello("job", 2, 0, 2, STEP).setBufferElements(ELEMENTS)),
              of(chunk("job", 2, STEP, 0, 0, 16))
            },
            Code.FAILED_PRECONDITION,
            "stale generation 2 of job 'job': this worker is at generation 3",
            Code.DEADLINE_EXCEEDED),
        Arguments.of(
            "wrong buffer size",
            new RingMessage[] {
              of(hello("job", 3, 0, 2, STEP).setBufferElements(ELEMENTS - 1)),
              of(chunk("job", 3, STEP, 0, 0, 16))
            },
            Code.INVALID_ARGUMENT,
            "wrong buffer size: rank 0 reduces 39 elements, this worker 40 in step 5",
            Code.DEADLINE_EXCEEDED),
        Arguments.of(
            "unknown peer (rank 1 claims to send to itself)",
            new RingMessage[] {
              of(hello("job", 3, 1, 2, STEP).setBufferElements(ELEMENTS)),
              of(chunk("job", 3, STEP, 0, 0, 16))
            },
            Code.PERMISSION_DENIED,
            "rank 1 of 2 is not the left neighbour of rank 1 in generation 3 (expected rank 0 of 2)",
            Code.DEADLINE_EXCEEDED),
        Arguments.of(
            "unknown peer (rank 7 of a ring of 9)",
            new RingMessage[] {of(hello("job", 3, 7, 9, STEP).setBufferElements(ELEMENTS))},
            Code.PERMISSION_DENIED,
            "rank 7 of 9 is not the left neighbour of rank 1",
            Code.DEADLINE_EXCEEDED),
        Arguments.of(
            "unknown job",
            new RingMessage[] {
              of(hello("other", 3, 0, 2, STEP).setBufferElements(ELEMENTS)),
              of(chunk("other", 3, STEP, 0, 0, 16))
            },
            Code.NOT_FOUND,
            "job 'other' is not running on this worker (it runs job 'job')",
            Code.DEADLINE_EXCEEDED),
        // The stream below is admitted (its hello is right), so its bad chunk ends the step too.
        Arguments.of(
            "wrong payload size in an admitted stream",
            new RingMessage[] {
              of(hello("job", 3, 0, 2, STEP).setBufferElements(ELEMENTS)),
              of(chunk("job", 3, STEP, 0, 0, 15).setElements(16))
            },
            Code.INVALID_ARGUMENT,
            "payload of 60 bytes for 16 FP32 elements (expected 64)",
            Code.INVALID_ARGUMENT),
        Arguments.of(
            "stale generation in a chunk of an admitted stream",
            new RingMessage[] {
              of(hello("job", 3, 0, 2, STEP).setBufferElements(ELEMENTS)),
              of(chunk("job", 2, STEP, 0, 0, 16))
            },
            Code.FAILED_PRECONDITION,
            "stale generation 2 in a chunk of a stream of generation 3",
            Code.FAILED_PRECONDITION),
        Arguments.of(
            "chunk out of schedule order",
            new RingMessage[] {
              of(hello("job", 3, 0, 2, STEP).setBufferElements(ELEMENTS)),
              of(chunk("job", 3, STEP, 1, 20, 16))
            },
            Code.INVALID_ARGUMENT,
            "expected chunk 0 of segment 0 (REDUCE_SCATTER, offset 0, 16 elements) as message 0",
            Code.INVALID_ARGUMENT));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refusals")
  void refusedWithAClearStatusAndTheBufferUnchanged(
      String name, RingMessage[] messages, Code code, String text, Code receiverCode)
      throws Exception {
    try (LoopbackRing ring = new LoopbackRing(2)) {
      ring.join("job", 3, 64, WireEncoding.FP32, Duration.ofMillis(1500));
      float[] buffer = RingAllReduceTest.buffers(2, ELEMENTS, STEP)[1];
      float[] before = buffer.clone();
      // Rank 0 joins but never runs the step: nothing legitimate reaches rank 1.
      Future<?> receiver = ring.submit(1, buffer, STEP, ReduceOp.SUM);

      Status status = RogueSender.send(ring.addresses.get(1), messages);

      assertEquals(code, status.getCode(), status.toString());
      assertTrue(
          status.getDescription().contains(text), () -> "description: " + status.getDescription());
      ExecutionException failed =
          assertThrows(ExecutionException.class, () -> receiver.get(10, TimeUnit.SECONDS));
      StatusRuntimeException e = assertInstanceOf(StatusRuntimeException.class, failed.getCause());
      assertEquals(receiverCode, e.getStatus().getCode(), e.getMessage());
      assertArrayEquals(before, buffer, 0f, "the receiver's buffer changed");
    }
  }

  @Test
  void refusedStreamsDoNotDisturbTheRealStep() throws Exception {
    try (LoopbackRing ring =
        LoopbackRing.started(2, 64, WireEncoding.FP32, Duration.ofSeconds(20))) {
      float[][] b = RingAllReduceTest.buffers(2, ELEMENTS, STEP);
      Future<?> receiver = ring.submit(1, b[1], STEP, ReduceOp.SUM);
      String target = ring.addresses.get(1);
      assertEquals(
          Code.FAILED_PRECONDITION,
          RogueSender.send(
                  target,
                  of(hello("job", 2, 0, 2, STEP).setBufferElements(ELEMENTS)),
                  of(chunk("job", 2, STEP, 0, 0, 16)))
              .getCode());
      assertEquals(
          Code.PERMISSION_DENIED,
          RogueSender.send(
                  target,
                  of(hello("job", 3, 1, 2, STEP).setBufferElements(ELEMENTS)),
                  of(chunk("job", 3, STEP, 0, 0, 16)))
              .getCode());

      ring.submit(0, b[0], STEP, ReduceOp.SUM).get(20, TimeUnit.SECONDS);
      receiver.get(20, TimeUnit.SECONDS);

      float[] expected = RingAllReduceTest.exactSum(2, ELEMENTS, STEP);
      assertArrayEquals(expected, b[0], 0f);
      assertArrayEquals(expected, b[1], 0f);
    }
  }

  @Test
  void aFinishedStepIsStale() throws Exception {
    try (LoopbackRing ring =
        LoopbackRing.started(2, 64, WireEncoding.FP32, Duration.ofSeconds(20))) {
      ring.allReduce(RingAllReduceTest.buffers(2, ELEMENTS, STEP), STEP, ReduceOp.SUM);
      Status status =
          RogueSender.send(
              ring.addresses.get(1), of(hello("job", 3, 0, 2, STEP).setBufferElements(ELEMENTS)));
      assertEquals(Code.FAILED_PRECONDITION, status.getCode());
      assertEquals(
          "stale step 5: this worker is at step 5 of generation 3", status.getDescription());
    }
  }

  @Test
  void aNewGenerationRefusesTheOldOne() throws Exception {
    try (LoopbackRing ring =
        LoopbackRing.started(2, 64, WireEncoding.FP32, Duration.ofSeconds(20))) {
      ring.allReduce(RingAllReduceTest.buffers(2, ELEMENTS, 1), 1, ReduceOp.SUM);
      ring.join("job", 4, 64, WireEncoding.FP32, Duration.ofSeconds(20));
      Status status =
          RogueSender.send(
              ring.addresses.get(0), of(hello("job", 3, 1, 2, 2).setBufferElements(ELEMENTS)));
      assertEquals(Code.FAILED_PRECONDITION, status.getCode());
      assertTrue(status.getDescription().startsWith("stale generation 3"), status.toString());
      // Step numbers start afresh in the new generation.
      float[][] b = RingAllReduceTest.buffers(2, ELEMENTS, 1);
      ring.allReduce(b, 1, ReduceOp.SUM);
      assertArrayEquals(RingAllReduceTest.exactSum(2, ELEMENTS, 1), b[1], 0f);
    }
  }
}
