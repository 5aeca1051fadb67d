package io.scoreflow.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * The reference for the benchmark: raw TCP throughput between two processes, plain NIO blocking
 * sockets and reused 4 MiB direct buffers, no framing beyond a length and a one-byte receipt. A
 * transfer is timed from its first byte sent to the receipt, so the socket buffers cannot hide
 * bytes that have not arrived yet.
 */
final class LoopbackTcp {

  private static final int BUFFER_BYTES = 4 << 20;

  private LoopbackTcp() {}

  /** Listens on 127.0.0.1 (any port) and sinks connections one after another until closed. */
  static ServerSocketChannel serve() throws IOException {
    ServerSocketChannel server = ServerSocketChannel.open();
    server.bind(new InetSocketAddress("127.0.0.1", 0));
    Thread sink =
        new Thread(
            () -> {
              ByteBuffer data = ByteBuffer.allocateDirect(BUFFER_BYTES);
              while (server.isOpen()) {
                try (SocketChannel s = server.accept()) {
                  sinkTransfers(s, data);
                } catch (IOException e) {
                  // The sender went away, or the server closed: that measurement is over.
                }
              }
            },
            "loopback-tcp-sink");
    sink.setDaemon(true);
    sink.start();
    return server;
  }

  private static void sinkTransfers(SocketChannel s, ByteBuffer data) throws IOException {
    s.socket().setTcpNoDelay(true);
    ByteBuffer header = ByteBuffer.allocate(8);
    ByteBuffer receipt = ByteBuffer.allocate(1);
    while (true) {
      header.clear();
      if (!readFully(s, header)) {
        return;
      }
      long left = header.flip().getLong();
      while (left > 0) {
        data.clear().limit((int) Math.min(BUFFER_BYTES, left));
        int n = s.read(data);
        if (n < 0) {
          return;
        }
        left -= n;
      }
      receipt.clear();
      s.write(receipt);
    }
  }

  /** Sends {@code bytes} to a {@link #serve} sink warmup + repeats times; returns the timed ns. */
  static long[] send(String host, int port, long bytes, int warmup, int repeats) {
    try (SocketChannel s = SocketChannel.open(new InetSocketAddress(host, port))) {
      s.socket().setTcpNoDelay(true);
      ByteBuffer header = ByteBuffer.allocate(8);
      ByteBuffer data = ByteBuffer.allocateDirect(BUFFER_BYTES);
      ByteBuffer receipt = ByteBuffer.allocate(1);
      long[] nanos = new long[repeats];
      for (int i = -warmup; i < repeats; i++) {
        long start = System.nanoTime();
        header.clear().putLong(bytes).flip();
        while (header.hasRemaining()) {
          s.write(header);
        }
        long left = bytes;
        while (left > 0) {
          data.clear().limit((int) Math.min(BUFFER_BYTES, left));
          left -= s.write(data);
        }
        receipt.clear();
        if (!readFully(s, receipt)) {
          throw new IOException("the sink closed before its receipt");
        }
        if (i >= 0) {
          nanos[i] = System.nanoTime() - start;
        }
      }
      return nanos;
    } catch (IOException e) {
      throw new UncheckedIOException("loopback TCP measurement failed", e);
    }
  }

  private static boolean readFully(SocketChannel s, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      if (s.read(b) < 0) {
        return false;
      }
    }
    return true;
  }
}
