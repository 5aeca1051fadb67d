package io.scoreflow.worker.exchange.ring;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.buffer.ByteBufAllocator;
import io.grpc.netty.shaded.io.netty.buffer.PooledByteBufAllocator;
import io.grpc.netty.shaded.io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.util.ResourceLeakDetector;
import io.scoreflow.security.GrpcTls;
import io.scoreflow.security.NodeIdentity;
import io.scoreflow.security.TransportSecurity;
import java.net.InetSocketAddress;
import java.util.EnumSet;

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

  /**
   * Socket reads of up to 1 MiB instead of Netty's 64 KiB: a ring stream delivers megabytes at a
   * time, and each read is a system call, an epoll round and a pass through the HTTP/2 pipeline.
   * The buffers come from {@link #ALLOCATOR} and go back to it once the chunks they hold have been
   * applied, so memory stays bounded by the flow-control windows.
   */
  static final AdaptiveRecvByteBufAllocator RECEIVE_BUFFERS =
      new AdaptiveRecvByteBufAllocator(64 << 10, 256 << 10, 1 << 20);

  /** The system property with which a user chooses the shaded Netty's leak detection. */
  static final String LEAK_DETECTION_PROPERTY = "io.grpc.netty.shaded.io.netty.leakDetection.level";

  static {
    // Netty's default leak detection samples about 1 in 128 buffers and records a stack trace for
    // it and for every slice taken from it: a 64 MiB all-reduce makes thousands of buffers and
    // slices, and those traces (about 150 per all-reduce and process, each a stack walk through
    // the HTTP/2 pipeline) were 2-3% of a worker's CPU in a profile of the 3-process ring. It is a
    // JVM-wide setting of the shaded Netty; whoever hunts a leak sets the property, which wins.
    if (System.getProperty(LEAK_DETECTION_PROPERTY) == null) {
      ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
    }
  }

  private RingTransport() {}

  /** A plaintext server builder for {@link RingEndpoint#start} (benchmarks and tests). */
  public static NettyServerBuilder serverBuilder(InetSocketAddress address) {
    return serverBuilder(address, TransportSecurity.plaintext());
  }

  /**
   * A server builder for {@link RingEndpoint#start} on {@code address} (port 0: any free one): over
   * mutual TLS it admits workers of the job only (the endpoint then checks each stream's identity
   * against the rank it claims).
   */
  public static NettyServerBuilder serverBuilder(
      InetSocketAddress address, TransportSecurity security) {
    return NettyServerBuilder.forAddress(address, GrpcTls.server(security))
        .intercept(
            GrpcTls.admitting(security, "gradient exchange", EnumSet.of(NodeIdentity.Role.WORKER)))
        .directExecutor()
        .initialFlowControlWindow(INITIAL_WINDOW_BYTES)
        .withChildOption(ChannelOption.ALLOCATOR, ALLOCATOR)
        .withChildOption(ChannelOption.RCVBUF_ALLOCATOR, RECEIVE_BUFFERS);
  }

  /** A plaintext channel to a peer's endpoint at {@code target} ({@code host:port}). */
  public static ManagedChannel channel(String target) {
    return channel(target, TransportSecurity.plaintext(), null);
  }

  /**
   * A channel to the endpoint of {@code peer} at {@code target} ({@code host:port}); over mutual
   * TLS the handshake fails unless the server's certificate names {@code peer}.
   */
  public static ManagedChannel channel(
      String target, TransportSecurity security, NodeIdentity peer) {
    return NettyChannelBuilder.forTarget(target, GrpcTls.channel(security, peer))
        .directExecutor()
        .disableRetry()
        .initialFlowControlWindow(INITIAL_WINDOW_BYTES)
        .withOption(ChannelOption.ALLOCATOR, ALLOCATOR)
        .withOption(ChannelOption.RCVBUF_ALLOCATOR, RECEIVE_BUFFERS)
        .build();
  }
}
