package io.scoreflow.worker.exchange.ring;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.scoreflow.proto.v1.Chunk;
import io.scoreflow.proto.v1.Encoding;
import io.scoreflow.proto.v1.Fence;
import io.scoreflow.proto.v1.GradientExchangeGrpc;
import io.scoreflow.proto.v1.Phase;
import io.scoreflow.proto.v1.RingHello;
import io.scoreflow.proto.v1.RingMessage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Fuzzing the ring's server side with what a hostile or broken peer sends: hellos and chunks with
 * arbitrary (often absurd) fields in arbitrary order, and frames of random bytes that are no
 * protobuf at all. Every stream must end with a status that means something (never UNKNOWN, the
 * status of an exception our code did not handle), within its deadline; and after all of it, the
 * real ring still reduces exactly.
 */
class RingEndpointFuzzTest {

  private static final int ELEMENTS = 100;
  private static LoopbackRing ring;
  private static ManagedChannel channel;

  @BeforeContainer
  static void start() {
    ring = LoopbackRing.started(2, 64, WireEncoding.FP32, Duration.ofSeconds(20));
    channel = RingTransport.channel(ring.addresses.get(1));
  }

  @AfterContainer
  static void theRealRingStillWorks() throws Exception {
    try {
      float[][] buffers = RingAllReduceTest.buffers(2, ELEMENTS, 1);
      ring.allReduce(buffers, 1, ReduceOp.SUM);
      assertArrayEquals(RingAllReduceTest.exactSum(2, ELEMENTS, 1), buffers[1], 0f);
    } finally {
      channel.shutdownNow();
      ring.close();
    }
  }

  @Provide
  Arbitrary<RingMessage> messages() {
    Arbitrary<String> job = Arbitraries.of("job", "", "other", "j\u0000b", "x".repeat(5000));
    Arbitrary<Long> longs =
        Arbitraries.oneOf(Arbitraries.longs(), Arbitraries.longs().between(-2, 5));
    Arbitrary<Integer> ints =
        Arbitraries.oneOf(Arbitraries.integers(), Arbitraries.integers().between(-2, 130));
    Arbitrary<RingMessage> hello =
        Combinators.combine(job, longs, ints, ints, longs, ints, ints)
            .as(
                (j, gen, sender, world, step, elements, chunk) ->
                    RingMessage.newBuilder()
                        .setHello(
                            RingHello.newBuilder()
                                .setJob(j)
                                .setGeneration(gen)
                                .setSenderRank(sender)
                                .setWorldSize(world)
                                .setStep(step)
                                .setBufferElements(elements)
                                .setChunkElements(chunk)
                                .setEncoding(Encoding.FP32))
                        .build());
    Arbitrary<RingMessage> chunk =
        Combinators.combine(
                job,
                longs,
                longs,
                ints,
                ints,
                ints,
                Arbitraries.bytes().array(byte[].class).ofMaxSize(600))
            .as(
                (j, gen, step, segment, offset, elements, payload) ->
                    RingMessage.newBuilder()
                        .setChunk(
                            Chunk.newBuilder()
                                .setFence(
                                    Fence.newBuilder().setJob(j).setGeneration(gen).setStep(step))
                                .setPhase(Phase.REDUCE_SCATTER)
                                .setSegment(segment)
                                .setOffset(offset)
                                .setElements(elements)
                                .setEncoding(Encoding.FP32)
                                .setPayload(ByteString.copyFrom(payload)))
                        .build());
    return Arbitraries.oneOf(hello, chunk);
  }

  @Property
  void everyMalformedStreamEndsWithAMeaningfulStatus(@ForAll("streams") List<RingMessage> stream)
      throws Exception {
    Status status = send(stream.stream().map(RingMessage::toByteArray).toList());
    assertNotEquals(Status.Code.UNKNOWN, status.getCode(), status.toString());
  }

  @Provide
  Arbitrary<List<RingMessage>> streams() {
    return messages().list().ofMinSize(1).ofMaxSize(6);
  }

  @Property
  void framesOfRandomBytesAreRefused(@ForAll("frames") List<byte[]> frames) throws Exception {
    Status status = send(frames);
    assertNotEquals(Status.Code.UNKNOWN, status.getCode(), status.toString());
    assertNotEquals(Status.Code.OK, status.getCode(), status.toString());
  }

  /**
   * The regression of what this fuzzing found first: a frame that is no protobuf (here tag zero)
   * ended the call with UNKNOWN "Application error processing RPC", because the marshaller threw.
   */
  @Example
  void aFrameThatIsNoProtobufIsInvalidArgument() throws Exception {
    Status status = send(List.of(new byte[] {0, 0, 0}));
    assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode(), status.toString());
    assertTrue(status.getDescription().startsWith("malformed RingMessage"), status.toString());
  }

  @Provide
  Arbitrary<List<byte[]>> frames() {
    return Arbitraries.bytes()
        .array(byte[].class)
        .ofMinSize(1)
        .ofMaxSize(300)
        .list()
        .ofMinSize(1)
        .ofMaxSize(4);
  }

  /** The Ring method with bytes as they are: whatever a peer may put on the wire. */
  private static final MethodDescriptor<byte[], byte[]> RAW =
      MethodDescriptor.<byte[], byte[]>newBuilder()
          .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
          .setFullMethodName(GradientExchangeGrpc.getRingMethod().getFullMethodName())
          .setRequestMarshaller(new Bytes())
          .setResponseMarshaller(new Bytes())
          .build();

  private static final class Bytes implements MethodDescriptor.Marshaller<byte[]> {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** Sends {@code frames} on one Ring call (1 s deadline) and returns how the call ended. */
  private static Status send(List<byte[]> frames) throws Exception {
    CompletableFuture<Status> done = new CompletableFuture<>();
    ClientCall<byte[], byte[]> call =
        channel.newCall(RAW, CallOptions.DEFAULT.withDeadlineAfter(1, TimeUnit.SECONDS));
    call.start(
        new ClientCall.Listener<>() {
          @Override
          public void onClose(Status status, Metadata trailers) {
            done.complete(status);
          }
        },
        new Metadata());
    call.request(1);
    for (byte[] f : frames) {
      call.sendMessage(f);
    }
    call.halfClose();
    return done.get(10, TimeUnit.SECONDS);
  }
}
