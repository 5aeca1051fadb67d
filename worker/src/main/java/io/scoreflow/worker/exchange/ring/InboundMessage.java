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

  InboundMessage(RingMessage message, InputStream retained) {
    this.message = message;
    this.retained = retained;
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
