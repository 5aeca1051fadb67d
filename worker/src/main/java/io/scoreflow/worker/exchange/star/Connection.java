package io.scoreflow.worker.exchange.star;

import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.time.Duration;

/**
 * One TCP connection with deadlines on every read and write: a non-blocking channel and its own
 * selector, so a silent peer costs at most the deadline, an interrupt ends the wait, and {@link
 * #close()} from another thread wakes a blocked reader.
 */
final class Connection implements AutoCloseable {

  private final SocketChannel channel;
  private final Selector selector;
  private final SelectionKey key;
  private volatile String peer;

  Connection(SocketChannel channel, String peer) throws IOException {
    this.channel = channel;
    this.peer = peer;
    channel.configureBlocking(false);
    channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
    this.selector = Selector.open();
    this.key = channel.register(selector, 0);
  }

  /** Connects to {@code host:port}, retrying refused connections until {@code deadlineNanos}. */
  static Connection connect(String host, int port, long deadlineNanos, String peer)
      throws IOException {
    IOException last = null;
    while (System.nanoTime() < deadlineNanos) {
      SocketChannel ch = SocketChannel.open();
      try {
        long leftMillis = Duration.ofNanos(deadlineNanos - System.nanoTime()).toMillis();
        ch.socket()
            .connect(
                new InetSocketAddress(host, port),
                (int) Math.max(1, Math.min(leftMillis, Integer.MAX_VALUE)));
        return new Connection(ch, peer);
      } catch (ConnectException e) {
        ch.close();
        last = e;
        sleepBriefly();
      } catch (IOException | RuntimeException e) {
        ch.close();
        throw e;
      }
    }
    throw new SocketTimeoutException(
        "could not connect to "
            + peer
            + " at "
            + host
            + ":"
            + port
            + " before the deadline"
            + (last == null ? "" : " (" + last.getMessage() + ")"));
  }

  String peer() {
    return peer;
  }

  /** Names the peer once known (rank 0 learns who connected from the hello). */
  void naming(String who) {
    this.peer = who;
  }

  /** Reads until {@code buffer} is full. */
  void readFully(ByteBuffer buffer, long deadlineNanos, String what) throws IOException {
    while (buffer.hasRemaining()) {
      int n = channel.read(buffer);
      if (n < 0) {
        throw new EOFException(peer + " closed the connection while " + what);
      }
      if (n == 0) {
        await(SelectionKey.OP_READ, deadlineNanos, what);
      }
    }
  }

  /** Writes all of {@code buffer}. */
  void writeFully(ByteBuffer buffer, long deadlineNanos, String what) throws IOException {
    while (buffer.hasRemaining()) {
      if (channel.write(buffer) == 0) {
        await(SelectionKey.OP_WRITE, deadlineNanos, what);
      }
    }
  }

  private void await(int op, long deadlineNanos, String what) throws IOException {
    long left = deadlineNanos - System.nanoTime();
    if (left <= 0) {
      throw new SocketTimeoutException("deadline passed while " + what + " (" + peer + ")");
    }
    try {
      key.interestOps(op);
      selector.select(Math.max(1, Duration.ofNanos(left).toMillis()));
      selector.selectedKeys().clear();
    } catch (ClosedSelectorException | java.nio.channels.CancelledKeyException e) {
      throw new java.nio.channels.AsynchronousCloseException();
    }
    if (Thread.currentThread().isInterrupted()) {
      throw new InterruptedIOException("interrupted while " + what + " (" + peer + ")");
    }
  }

  private static void sleepBriefly() throws InterruptedIOException {
    try {
      Thread.sleep(50);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while connecting");
    }
  }

  /** Closes the channel and wakes a thread blocked on it; idempotent, any thread. */
  @Override
  public void close() {
    try {
      channel.close();
    } catch (IOException e) {
      // Closing is best effort; the peer sees the connection end either way.
    }
    try {
      selector.close();
    } catch (IOException e) {
      // As above.
    }
  }
}
