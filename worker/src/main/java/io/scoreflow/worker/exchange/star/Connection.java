package io.scoreflow.worker.exchange.star;

import io.scoreflow.security.NodeIdentity;
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
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Optional;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * One TCP connection with deadlines on every read and write: a non-blocking channel and its own
 * selector, so a silent peer costs at most the deadline, an interrupt ends the wait, and {@link
 * #close()} from another thread wakes a blocked reader.
 *
 * <p>With an {@link SSLEngine} every byte goes through TLS: {@link #handshake} first, then reads
 * and writes unwrap and wrap records over the same non-blocking channel, with the same deadlines.
 */
final class Connection implements AutoCloseable {

  private static final ByteBuffer NOTHING = ByteBuffer.allocate(0);

  private final SocketChannel channel;
  private final Selector selector;
  private final SelectionKey key;
  private final SSLEngine tls;
  private ByteBuffer netIn;
  private ByteBuffer netOut;
  private ByteBuffer appIn;
  private volatile String peer;

  /** A connection over {@code channel}; {@code tls} null for plaintext. */
  Connection(SocketChannel channel, String peer, SSLEngine tls) throws IOException {
    this.channel = channel;
    this.peer = peer;
    this.tls = tls;
    if (tls != null) {
      int packet = tls.getSession().getPacketBufferSize();
      this.netIn = ByteBuffer.allocate(packet);
      this.netOut = ByteBuffer.allocate(packet);
      this.appIn = ByteBuffer.allocate(tls.getSession().getApplicationBufferSize());
    }
    channel.configureBlocking(false);
    channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
    this.selector = Selector.open();
    this.key = channel.register(selector, 0);
  }

  /**
   * Connects to {@code host:port}, retrying refused connections until {@code deadlineNanos}; with
   * {@code tls} (a client engine, or null) the caller then runs the {@link #handshake}.
   */
  static Connection connect(String host, int port, long deadlineNanos, String peer, SSLEngine tls)
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
        return new Connection(ch, peer, tls);
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

  /**
   * Runs the TLS handshake (nothing over plaintext); a peer whose certificate is refused, or that
   * refuses this side's, ends it with an {@link IOException} that says so.
   */
  void handshake(long deadlineNanos) throws IOException {
    if (tls == null) {
      return;
    }
    try {
      tls.beginHandshake();
      SSLEngineResult.HandshakeStatus hs = tls.getHandshakeStatus();
      while (hs != SSLEngineResult.HandshakeStatus.FINISHED
          && hs != SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING) {
        switch (hs) {
          case NEED_WRAP -> {
            netOut.clear();
            SSLEngineResult r = tls.wrap(NOTHING, netOut);
            netOut.flip();
            rawWriteFully(netOut, deadlineNanos, "the TLS handshake");
            if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
              throw new EOFException(peer + " closed the connection during the TLS handshake");
            }
            hs = r.getHandshakeStatus();
          }
          case NEED_TASK -> {
            runTasks();
            hs = tls.getHandshakeStatus();
          }
          default -> {
            SSLEngineResult r = unwrap(deadlineNanos, "the TLS handshake");
            hs = r.getHandshakeStatus();
          }
        }
      }
    } catch (SSLException e) {
      sendAlert(deadlineNanos);
      throw new IOException("TLS handshake with " + peer + " failed: " + e.getMessage(), e);
    }
  }

  /** The identity the peer's certificate names, once the handshake is done (none: plaintext). */
  Optional<NodeIdentity> peerIdentity() {
    if (tls == null) {
      return Optional.empty();
    }
    try {
      Certificate[] chain = tls.getSession().getPeerCertificates();
      return chain.length > 0 && chain[0] instanceof X509Certificate leaf
          ? NodeIdentity.of(leaf)
          : Optional.empty();
    } catch (SSLPeerUnverifiedException e) {
      return Optional.empty();
    }
  }

  /** Reads until {@code buffer} is full. */
  void readFully(ByteBuffer buffer, long deadlineNanos, String what) throws IOException {
    if (tls == null) {
      rawReadFully(buffer, deadlineNanos, what);
      return;
    }
    while (buffer.hasRemaining()) {
      if (appIn.position() == 0) {
        unwrap(deadlineNanos, what);
        continue;
      }
      appIn.flip();
      int n = Math.min(appIn.remaining(), buffer.remaining());
      ByteBuffer slice = appIn.slice();
      slice.limit(n);
      buffer.put(slice);
      appIn.position(appIn.position() + n);
      appIn.compact();
    }
  }

  /** Writes all of {@code buffer}. */
  void writeFully(ByteBuffer buffer, long deadlineNanos, String what) throws IOException {
    if (tls == null) {
      rawWriteFully(buffer, deadlineNanos, what);
      return;
    }
    while (buffer.hasRemaining()) {
      netOut.clear();
      SSLEngineResult r = tls.wrap(buffer, netOut);
      if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
        throw new EOFException("the TLS session with " + peer + " is closed (" + what + ")");
      }
      netOut.flip();
      rawWriteFully(netOut, deadlineNanos, what);
    }
  }

  /**
   * Unwraps one TLS record into {@link #appIn} (write mode), reading from the socket as needed;
   * records that carry no data (a session ticket, a key update) produce nothing.
   */
  private SSLEngineResult unwrap(long deadlineNanos, String what) throws IOException {
    while (true) {
      netIn.flip();
      SSLEngineResult r;
      try {
        r = tls.unwrap(netIn, appIn);
      } finally {
        netIn.compact();
      }
      switch (r.getStatus()) {
        case OK -> {
          if (r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_TASK) {
            runTasks();
          }
          return r;
        }
        case BUFFER_UNDERFLOW -> {
          if (!netIn.hasRemaining()) {
            netIn = grow(netIn, tls.getSession().getPacketBufferSize());
          }
          if (channelRead(netIn, deadlineNanos, what) < 0) {
            throw new EOFException(peer + " closed the connection while " + what);
          }
        }
        case BUFFER_OVERFLOW -> appIn = grow(appIn, tls.getSession().getApplicationBufferSize());
        case CLOSED -> throw new EOFException(peer + " closed the TLS session while " + what);
      }
    }
  }

  private static ByteBuffer grow(ByteBuffer full, int atLeast) {
    ByteBuffer bigger = ByteBuffer.allocate(Math.max(full.capacity() * 2, atLeast));
    full.flip();
    bigger.put(full);
    return bigger;
  }

  /** Reads once from the socket into {@code into}, waiting for data up to the deadline. */
  private int channelRead(ByteBuffer into, long deadlineNanos, String what) throws IOException {
    while (true) {
      int n = channel.read(into);
      if (n != 0) {
        return n;
      }
      await(SelectionKey.OP_READ, deadlineNanos, what);
    }
  }

  private void runTasks() {
    Runnable task;
    while ((task = tls.getDelegatedTask()) != null) {
      task.run();
    }
  }

  /** Best effort: tells the peer why the handshake ended (its alert), within a short time. */
  private void sendAlert(long deadlineNanos) {
    try {
      tls.closeOutbound();
      netOut.clear();
      tls.wrap(NOTHING, netOut);
      netOut.flip();
      rawWriteFully(
          netOut, Math.min(deadlineNanos, System.nanoTime() + 1_000_000_000L), "a TLS alert");
    } catch (IOException | RuntimeException e) {
      // The connection is closed next either way.
    }
  }

  private void rawReadFully(ByteBuffer buffer, long deadlineNanos, String what) throws IOException {
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

  private void rawWriteFully(ByteBuffer buffer, long deadlineNanos, String what)
      throws IOException {
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
