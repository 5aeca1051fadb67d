package io.scoreflow.worker.exchange.ring;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Detachable;
import io.grpc.HasByteBuffer;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.protobuf.ProtoUtils;
import io.scoreflow.proto.v1.RingMessage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses {@link RingMessage}s without copying their payload: protobuf aliases the {@code bytes}
 * field on the buffers gRPC received (detached from the call, released by {@link
 * InboundMessage#close()}). The default marshaller copies every payload into a fresh {@code byte[]}
 * (about 30 ms per 64 MiB all-reduce in the field notes, against about 4 ms here, and no garbage).
 * Falls back to an ordinary parse when the transport does not expose its buffers (in-process).
 */
final class ZeroCopyRingMarshaller implements MethodDescriptor.Marshaller<InboundMessage> {

  private final MethodDescriptor.Marshaller<RingMessage> plain =
      ProtoUtils.marshaller(RingMessage.getDefaultInstance());

  @Override
  public InputStream stream(InboundMessage value) {
    return plain.stream(value.message());
  }

  @Override
  public InboundMessage parse(InputStream stream) {
    if (!(stream instanceof KnownLength
        && stream instanceof Detachable
        && stream instanceof HasByteBuffer
        && ((HasByteBuffer) stream).byteBufferSupported())) {
      try {
        return new InboundMessage(plain.parse(stream), null);
      } catch (RuntimeException e) {
        return InboundMessage.malformed(
            Status.INVALID_ARGUMENT.withDescription("malformed RingMessage: " + e.getMessage()));
      }
    }
    InputStream detached = ((Detachable) stream).detach();
    try {
      int size = detached.available();
      // mark() keeps the buffers that skip() walks over, so they stay valid after the walk.
      detached.mark(size);
      List<ByteString> pieces = new ArrayList<>();
      while (detached.available() > 0) {
        ByteBuffer piece = ((HasByteBuffer) detached).getByteBuffer();
        pieces.add(UnsafeByteOperations.unsafeWrap(piece));
        detached.skip(piece.remaining());
      }
      detached.reset();
      CodedInputStream in = ByteString.copyFrom(pieces).newCodedInput();
      in.enableAliasing(true);
      in.setSizeLimit(Integer.MAX_VALUE);
      RingMessage message = RingMessage.parseFrom(in);
      in.checkLastTagWas(0);
      return new InboundMessage(message, detached);
    } catch (InvalidProtocolBufferException e) {
      closeQuietly(detached);
      return InboundMessage.malformed(
          Status.INVALID_ARGUMENT.withDescription("malformed RingMessage: " + e.getMessage()));
    } catch (IOException | RuntimeException e) {
      closeQuietly(detached);
      return InboundMessage.malformed(
          Status.INTERNAL.withDescription("could not read a RingMessage: " + e));
    }
  }

  private static void closeQuietly(InputStream in) {
    try {
      in.close();
    } catch (IOException ignored) {
      // Already failing; the parse error is what matters.
    }
  }
}
