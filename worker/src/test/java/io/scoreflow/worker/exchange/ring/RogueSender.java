package io.scoreflow.worker.exchange.ring;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.scoreflow.proto.v1.Chunk;
import io.scoreflow.proto.v1.Encoding;
import io.scoreflow.proto.v1.Fence;
import io.scoreflow.proto.v1.GradientExchangeGrpc;
import io.scoreflow.proto.v1.Phase;
import io.scoreflow.proto.v1.RingHello;
import io.scoreflow.proto.v1.RingMessage;
import io.scoreflow.proto.v1.RingSummary;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** A hand-driven Ring client that sends whatever messages a test wants and reports the status. */
final class RogueSender {

  private RogueSender() {}

  static RingHello.Builder hello(String job, long generation, int sender, int world, long step) {
    return RingHello.newBuilder()
        .setJob(job)
        .setGeneration(generation)
        .setSenderRank(sender)
        .setWorldSize(world)
        .setStep(step)
        .setBufferElements(0)
        .setChunkElements(16)
        .setEncoding(Encoding.FP32);
  }

  /** A first reduce-scatter chunk of 99.0f values, for the slot a 2-rank receiver expects. */
  static Chunk.Builder chunk(
      String job, long generation, long step, int segment, int offset, int n) {
    byte[] payload = new byte[4 * n];
    java.nio.ByteBuffer.wrap(payload)
        .order(java.nio.ByteOrder.LITTLE_ENDIAN)
        .asFloatBuffer()
        .put(filled(n, 99f));
    return Chunk.newBuilder()
        .setFence(Fence.newBuilder().setJob(job).setGeneration(generation).setStep(step))
        .setPhase(Phase.REDUCE_SCATTER)
        .setSegment(segment)
        .setChunk(0)
        .setOffset(offset)
        .setElements(n)
        .setEncoding(Encoding.FP32)
        .setPayload(ByteString.copyFrom(payload));
  }

  private static float[] filled(int n, float v) {
    float[] f = new float[n];
    java.util.Arrays.fill(f, v);
    return f;
  }

  /** Sends the messages on one Ring call and returns the status the receiver ended it with. */
  static Status send(String target, RingMessage... messages) throws Exception {
    return send(RingTransport.channel(target), messages);
  }

  /** As above, over {@code channel} (closed afterwards). */
  static Status send(ManagedChannel channel, RingMessage... messages) throws Exception {
    try {
      CompletableFuture<Status> status = new CompletableFuture<>();
      StreamObserver<RingMessage> out =
          GradientExchangeGrpc.newStub(channel)
              .withDeadlineAfter(10, TimeUnit.SECONDS)
              .ring(
                  new StreamObserver<>() {
                    @Override
                    public void onNext(RingSummary value) {}

                    @Override
                    public void onError(Throwable t) {
                      status.complete(Status.fromThrowable(t));
                    }

                    @Override
                    public void onCompleted() {
                      status.complete(Status.OK);
                    }
                  });
      for (RingMessage m : messages) {
        out.onNext(m);
      }
      out.onCompleted();
      return status.get(15, TimeUnit.SECONDS);
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  static RingMessage of(RingHello.Builder hello) {
    return RingMessage.newBuilder().setHello(hello).build();
  }

  static RingMessage of(Chunk.Builder chunk) {
    return RingMessage.newBuilder().setChunk(chunk).build();
  }
}
