package io.scoreflow.worker.exchange.ring;

import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;
import io.scoreflow.proto.v1.RingMessage;
import java.io.InputStream;

/** Serialises {@link OutboundMessage}s by draining them (see there); parses plain messages. */
final class OutboundRingMarshaller implements MethodDescriptor.Marshaller<OutboundMessage> {

  private final MethodDescriptor.Marshaller<RingMessage> plain =
      ProtoUtils.marshaller(RingMessage.getDefaultInstance());

  @Override
  public InputStream stream(OutboundMessage value) {
    return value.stream();
  }

  @Override
  public OutboundMessage parse(InputStream stream) {
    return OutboundMessage.of(plain.parse(stream));
  }
}
