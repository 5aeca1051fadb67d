package io.scoreflow.ckpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.scoreflow.coordinator.ckpt.CheckpointServer;
import io.scoreflow.data.DataCursor;
import io.scoreflow.proto.v1.CheckpointChunk;
import io.scoreflow.proto.v1.CheckpointServiceGrpc;
import io.scoreflow.proto.v1.FetchCheckpointRequest;
import io.scoreflow.proto.v1.NewestCheckpointReply;
import io.scoreflow.proto.v1.NewestCheckpointRequest;
import io.scoreflow.security.TransportSecurity;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * The checkpoint service's handlers on a real socket fed requests no sampler sends: other and
 * absurd job names, any step, any chunk size, bytes that are no request at all, and oversized ones.
 * Each call ends with the checkpoint, exactly as stored, or a status that names the client's
 * mistake (never UNKNOWN or INTERNAL, never a path of the server), and the service still serves the
 * real checkpoint afterwards.
 */
class CheckpointServiceFuzzTest {

  private static final String JOB = "fuzz-svc";
  private static final long STEP = 7;

  /** What a refusal of a client's request may be: its fault, stated. */
  private static final Set<Status.Code> REFUSALS =
      EnumSet.of(
          Status.Code.NOT_FOUND, Status.Code.INVALID_ARGUMENT, Status.Code.RESOURCE_EXHAUSTED);

  private static Path root;
  private static CheckpointServer server;
  private static ManagedChannel channel;
  private static Map<String, String> stored;

  @BeforeContainer
  static void start() throws Exception {
    root = Files.createTempDirectory("ckpt-fuzz");
    try (CheckpointStore store = CheckpointStore.open(root)) {
      CompletedCheckpoint c =
          store.write(
              CheckpointSnapshot.builder()
                  .jobId(JOB)
                  .step(STEP)
                  .generation(1)
                  .config("scoreflow { job.name = fuzz-svc }")
                  .dataCursor(new DataCursor(0, 0))
                  .rng(new RngState(1, Map.of()))
                  .group(
                      "model", List.of(new HostTensor("w", new long[] {3}, new float[] {1, 2, 3})))
                  .build());
      stored = new HashMap<>();
      // Everything the checkpoint's directory holds is what a fetch must stream.
      try (Stream<Path> files = Files.list(c.directory())) {
        for (Path f : files.toList()) {
          stored.put(
              f.getFileName().toString(),
              HexFormat.of().formatHex(sha256().digest(Files.readAllBytes(f))));
        }
      }
    }
    server =
        CheckpointServer.start(
            new InetSocketAddress("127.0.0.1", 0), TransportSecurity.plaintext(), JOB, root);
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
  }

  @AfterContainer
  static void stop() throws IOException {
    channel.shutdownNow();
    server.close();
    try (Stream<Path> files = Files.walk(root)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @Property
  void everyFetchEndsWithTheCheckpointOrARefusalOfTheRequest(
      @ForAll("jobs") String job, @ForAll("steps") long step, @ForAll("chunks") int chunkBytes) {
    FetchCheckpointRequest request =
        FetchCheckpointRequest.newBuilder()
            .setJob(job)
            .setStep(step)
            .setChunkBytes(chunkBytes)
            .build();
    boolean valid =
        job.equals(JOB)
            && step == STEP
            && chunkBytes >= 0
            && chunkBytes <= (4 << 20) - (64 << 10)
            && request.getSerializedSize() <= CheckpointServer.MAX_REQUEST_BYTES;
    try {
      Map<String, String> fetched = fetch(request);
      assertTrue(valid, "served a request it should have refused: " + request);
      assertEquals(stored, fetched);
    } catch (StatusRuntimeException e) {
      assertRefusal(e.getStatus());
      assertFalse(valid && REFUSALS.contains(e.getStatus().getCode()), "refused " + request);
    }
    assertEquals(
        stored, fetch(FetchCheckpointRequest.newBuilder().setJob(JOB).setStep(STEP).build()));
  }

  @Property
  void everyNewestAnswersOrRefusesTheJob(@ForAll("jobs") String job) {
    try {
      NewestCheckpointReply reply =
          CheckpointServiceGrpc.newBlockingStub(channel)
              .withDeadlineAfter(10, TimeUnit.SECONDS)
              .newest(NewestCheckpointRequest.newBuilder().setJob(job).build());
      assertEquals(JOB, job);
      assertEquals(STEP, reply.getStep());
    } catch (StatusRuntimeException e) {
      assertRefusal(e.getStatus());
    }
  }

  @Property
  void bytesThatAreNoRequestAreRefused(@ForAll("frames") byte[] frame) {
    try {
      Iterator<byte[]> replies =
          ClientCalls.blockingServerStreamingCall(
              channel,
              raw(CheckpointServiceGrpc.getFetchMethod()),
              CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
              frame);
      // Random bytes can still be a valid protobuf (every field optional): then the job or step
      // is wrong, or by chance right, and the server answers as to any request.
      replies.forEachRemaining(r -> {});
    } catch (StatusRuntimeException e) {
      assertRefusal(e.getStatus());
    }
  }

  /**
   * What fuzzing found: a frame that is no protobuf (a lone field tag of 0) was INTERNAL "Invalid
   * protobuf byte sequence" from gRPC's marshaller, blaming the server for the client's bytes.
   */
  @Example
  void aFrameThatIsNoProtobufIsInvalidArgument() {
    StatusRuntimeException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            StatusRuntimeException.class,
            () ->
                ClientCalls.blockingServerStreamingCall(
                        channel,
                        raw(CheckpointServiceGrpc.getFetchMethod()),
                        CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
                        new byte[] {0, 0, 0})
                    .forEachRemaining(r -> {}));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getStatus().toString());
  }

  /** A request far larger than any real one is refused before the server buffers it. */
  @Example
  void anOversizedRequestIsResourceExhausted() {
    StatusRuntimeException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            StatusRuntimeException.class,
            () ->
                fetch(
                    FetchCheckpointRequest.newBuilder()
                        .setJob("j".repeat(1 << 20))
                        .setStep(STEP)
                        .build()));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), e.getStatus().toString());
  }

  @Provide
  Arbitrary<String> jobs() {
    return Arbitraries.oneOf(
        Arbitraries.just(JOB),
        Arbitraries.just(""),
        Arbitraries.strings().ofMaxLength(300),
        Arbitraries.strings().withChars("/.\\").ofMaxLength(40),
        Arbitraries.strings().ofMinLength(3000).ofMaxLength(6000));
  }

  @Provide
  Arbitrary<Long> steps() {
    return Arbitraries.oneOf(
        Arbitraries.just(STEP), Arbitraries.longs().between(-3, 20), Arbitraries.longs());
  }

  @Provide
  Arbitrary<Integer> chunks() {
    return Arbitraries.oneOf(
        Arbitraries.just(0), Arbitraries.integers().between(1, 64), Arbitraries.integers());
  }

  @Provide
  Arbitrary<byte[]> frames() {
    return Arbitraries.bytes().array(byte[].class).ofMaxSize(200);
  }

  private static void assertRefusal(Status status) {
    assertTrue(REFUSALS.contains(status.getCode()), status.toString());
    String description = String.valueOf(status.getDescription());
    assertFalse(description.contains(root.toString()), "a refusal names a path: " + status);
    assertTrue(description.length() < 400, "a refusal echoes what it was sent: " + status);
  }

  /** File name to SHA-256 of what a fetch streamed, checked against each file's own header. */
  private static Map<String, String> fetch(FetchCheckpointRequest request) {
    Map<String, MessageDigest> digests = new HashMap<>();
    Map<String, String> claimed = new HashMap<>();
    Iterator<CheckpointChunk> chunks =
        CheckpointServiceGrpc.newBlockingStub(channel)
            .withDeadlineAfter(10, TimeUnit.SECONDS)
            .fetch(request);
    while (chunks.hasNext()) {
      CheckpointChunk c = chunks.next();
      if (c.getOffset() == 0) {
        claimed.put(c.getFile(), c.getSha256());
      }
      digests.computeIfAbsent(c.getFile(), f -> sha256()).update(c.getData().toByteArray());
    }
    Map<String, String> actual = new HashMap<>();
    digests.forEach((f, d) -> actual.put(f, HexFormat.of().formatHex(d.digest())));
    assertEquals(claimed, actual, "a streamed file differs from the digest it was sent with");
    return actual;
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** {@code method} with raw bytes for request and replies. */
  private static MethodDescriptor<byte[], byte[]> raw(MethodDescriptor<?, ?> method) {
    MethodDescriptor.Marshaller<byte[]> bytes =
        new MethodDescriptor.Marshaller<>() {
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
        };
    return method.toBuilder(bytes, bytes).build();
  }
}
