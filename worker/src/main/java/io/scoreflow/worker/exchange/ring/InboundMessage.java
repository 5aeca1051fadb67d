package io.scoreflow.worker.exchange.ring;

import io.scoreflow.proto.v1.RingMessage;
import java.io.IOException;
import java.io.InputStream;

/**
 * A received {@link RingMessage} whose {@code bytes} may alias gRPC's network buffers: it must be
 * closed once its payload has been applied, which returns those buffers to Netty's pool.
 */
final class InboundMessage implements AutoCloseable {

  private final RingMessage message;
  private final InputStream retained;
  private final io.grpc.Status malformed;

  InboundMessage(RingMessage message, InputStream retained) {
    this(message, retained, null);
  }

  private InboundMessage(RingMessage message, InputStream retained, io.grpc.Status malformed) {
    this.message = message;
    this.retained = retained;
    this.malformed = malformed;
  }

  /**
   * A frame that is no RingMessage. It travels to the stream as a message rather than as an
   * exception from the marshaller: gRPC would end the call with UNKNOWN ("Application error
   * processing RPC"), while the stream refuses it with {@code why}, a status that says what was
   * wrong.
   */
  static InboundMessage malformed(io.grpc.Status why) {
    return new InboundMessage(RingMessage.getDefaultInstance(), null, why);
  }

  /** Why the frame could not be read, or null for a well-formed message. */
  io.grpc.Status malformed() {
    return malformed;
  }

  RingMessage message() {
    return message;
  }

  /** Whether the payload aliases network buffers rather than a private copy. */
  boolean zeroCopy() {
    return retained != null;
  }

  @Override
  public void close() {
    if (retained != null) {
      try {
        retained.close();
      } catch (IOException e) {
        // Releasing pooled buffers does not do I/O; nothing to recover.
        throw new IllegalStateException("could not release a received message's buffers", e);
      }
    }
  }
}
