package io.scoreflow.worker.exchange.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.scoreflow.proto.v1.Chunk;
import io.scoreflow.proto.v1.GradientExchangeGrpc;
import io.scoreflow.proto.v1.RingMessage;
import io.scoreflow.proto.v1.RingSummary;
import java.net.InetSocketAddress;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Over Netty, a received payload aliases gRPC's buffers (several pieces) and reads back intact. */
class ZeroCopyRingMarshallerTest {

  @Test
  void payloadAliasesNetworkBuffersAndIsIntact() throws Exception {
    byte[] payload = new byte[(1 << 20) + 3];
    new Random(1).nextBytes(payload);
    CompletableFuture<String> seen = new CompletableFuture<>();
    ServerServiceDefinition service =
        ServerServiceDefinition.builder(GradientExchangeGrpc.SERVICE_NAME)
            .addMethod(RingEndpoint.RING_METHOD, new Recorder(payload, seen))
            .build();
    Server server =
        RingTransport.serverBuilder(new InetSocketAddress("127.0.0.1", 0))
            .maxInboundMessageSize(4 << 20)
            .addService(service)
            .build()
            .start();
    ManagedChannel channel = RingTransport.channel("127.0.0.1:" + server.getPort());
    try {
      StreamObserver<RingMessage> out =
          GradientExchangeGrpc.newStub(channel)
              .withDeadlineAfter(10, TimeUnit.SECONDS)
              .ring(new NoOpObserver());
      out.onNext(
          RingMessage.newBuilder()
              .setChunk(Chunk.newBuilder().setPayload(ByteString.copyFrom(payload)))
              .build());
      out.onCompleted();
      String[] result = seen.get(10, TimeUnit.SECONDS).split(" ");
      assertEquals("true", result[0], "zero-copy path taken");
      assertTrue(Integer.parseInt(result[1]) > 1, "payload arrives in several pieces");
      assertEquals("true", result[2], "payload intact");
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** Records what the first message looked like, then ends the call. */
  private static final class Recorder implements ServerCallHandler<InboundMessage, RingSummary> {
    private final byte[] payload;
    private final CompletableFuture<String> seen;

    Recorder(byte[] payload, CompletableFuture<String> seen) {
      this.payload = payload;
      this.seen = seen;
    }

    @Override
    public ServerCall.Listener<InboundMessage> startCall(
        ServerCall<InboundMessage, RingSummary> call, Metadata headers) {
      call.request(1);
      return new ServerCall.Listener<InboundMessage>() {
        @Override
        public void onMessage(InboundMessage m) {
          try (m) {
            ByteString p = m.message().getChunk().getPayload();
            seen.complete(
                m.zeroCopy()
                    + " "
                    + p.asReadOnlyByteBufferList().size()
                    + " "
                    + p.equals(ByteString.copyFrom(payload)));
          }
          call.close(Status.OK, new Metadata());
        }
      };
    }
  }

  private static final class NoOpObserver implements StreamObserver<RingSummary> {
    @Override
    public void onNext(RingSummary value) {}

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {}
  }
}
