package io.scoreflow.collective;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.buffer.ByteBufAllocator;
import io.grpc.netty.shaded.io.netty.buffer.PooledByteBufAllocator;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import java.net.InetSocketAddress;

/**
 * Netty settings for the gradient exchange over TCP, measured on loopback (see FIELD-NOTES.md):
 * callbacks on the event loop ({@code directExecutor}; the handlers never block), a 16 MiB initial
 * HTTP/2 window that keeps auto-tuning, and no retries (a retrying stream would keep references to
 * sent messages, whose payloads wrap a reused buffer), and a buffer pool with 16 MiB chunks.
 */
public final class RingTransport {

  /** Initial HTTP/2 flow-control window per stream (auto-tuning stays on). */
  public static final int INITIAL_WINDOW_BYTES = 16 << 20;

  /**
   * gRPC's own pool uses 2 MiB chunks, and its message framer takes 1 MiB buffers: with megabytes
   * of chunks streaming through, pool chunks kept emptying, being freed and being allocated again
   * (zeroed and page-faulted: 8.5% of the CPU of a 3-process ring in a profile). 16 MiB chunks hold
   * enough buffers in flight that they stay in use. One pool for the process, like Netty's default;
   * 2 direct arenas for the 2 event-loop threads that do most of the work.
   */
  static final ByteBufAllocator ALLOCATOR =
      new PooledByteBufAllocator(true, 0, 2, 8192, 11, 256, 64, true);

  private RingTransport() {}

  /** A server builder for {@link RingEndpoint#start} on {@code address} (port 0: any free one). */
  public static NettyServerBuilder serverBuilder(InetSocketAddress address) {
    return NettyServerBuilder.forAddress(address)
        .directExecutor()
        .initialFlowControlWindow(INITIAL_WINDOW_BYTES)
        .withChildOption(ChannelOption.ALLOCATOR, ALLOCATOR);
  }

  /** A plaintext channel to a peer's endpoint at {@code target} ({@code host:port}). */
  public static ManagedChannel channel(String target) {
    return NettyChannelBuilder.forTarget(target)
        .usePlaintext()
        .directExecutor()
        .disableRetry()
        .initialFlowControlWindow(INITIAL_WINDOW_BYTES)
        .withOption(ChannelOption.ALLOCATOR, ALLOCATOR)
        .build();
  }
}
