package io.scoreflow.collective;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;

/**
 * Netty settings for the gradient exchange over TCP, measured on loopback (see FIELD-NOTES.md):
 * callbacks on the event loop ({@code directExecutor}; the handlers never block), a 16 MiB initial
 * HTTP/2 window that keeps auto-tuning, and no retries (a retrying stream would keep references to
 * sent messages, whose payloads wrap a reused buffer).
 */
public final class RingTransport {

  /** Initial HTTP/2 flow-control window: four 4 MiB chunks in flight per stream. */
  public static final int INITIAL_WINDOW_BYTES = 16 << 20;

  private RingTransport() {}

  /** A server builder for {@link RingEndpoint#start} on {@code address} (port 0: any free one). */
  public static NettyServerBuilder serverBuilder(InetSocketAddress address) {
    return NettyServerBuilder.forAddress(address)
        .directExecutor()
        .initialFlowControlWindow(INITIAL_WINDOW_BYTES);
  }

  /** A plaintext channel to a peer's endpoint at {@code target} ({@code host:port}). */
  public static ManagedChannel channel(String target) {
    return NettyChannelBuilder.forTarget(target)
        .usePlaintext()
        .directExecutor()
        .disableRetry()
        .initialFlowControlWindow(INITIAL_WINDOW_BYTES)
        .build();
  }
}
