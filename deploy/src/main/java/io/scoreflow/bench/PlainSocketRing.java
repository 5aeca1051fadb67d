package io.scoreflow.bench;

import com.google.protobuf.UnsafeByteOperations;
import io.scoreflow.worker.exchange.ring.PayloadCodec;
import io.scoreflow.worker.exchange.ring.RingAllReduce;
import io.scoreflow.worker.exchange.ring.RingSchedule;
import io.scoreflow.worker.exchange.ring.WireEncoding;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The benchmark's second reference: the same pipelined ring schedule ({@link RingSchedule}, the
 * same chunks, the same adds through {@link PayloadCodec}) over plain blocking TCP sockets, with no
 * gRPC, HTTP/2 or protobuf in the way. It tells how much of a ring all-reduce's time on this
 * machine is the ring itself (kernel copies, context switches, sums) and how much is the gRPC
 * transport: the 0.25 of raw TCP is a target for the gRPC ring, and this ring bounds what
 * any ring of this shape reaches here.
 *
 * <p>Not a data plane: no fencing, no deadlines, no refusal of strangers, no recovery; a socket
 * error ends the benchmark. One sender thread per ring (sends wait for the chunk they forward, as
 * in {@link RingAllReduce}); the calling thread receives.
 */
final class PlainSocketRing implements AutoCloseable {

  private final ServerSocketChannel server;
  private final ExecutorService sender;
  private SocketChannel left;
  private SocketChannel right;
  private int rank;
  private int world;
  private ByteBuffer outBuffer;
  private ByteBuffer inBuffer;
  private final PayloadCodec.Scratch scratch = new PayloadCodec.Scratch();

  /** Progress of the receiving side in the current all-reduce; the sender waits on it. */
  private final Object progress = new Object();

  private int applied;

  private PlainSocketRing(ServerSocketChannel server) {
    this.server = server;
    this.sender =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "plain-ring-sender");
              t.setDaemon(true);
              return t;
            });
  }

  /** Listens on 127.0.0.1 (any free port) for the left neighbour. */
  static PlainSocketRing listen() {
    try {
      ServerSocketChannel server = ServerSocketChannel.open();
      server.bind(new InetSocketAddress("127.0.0.1", 0));
      return new PlainSocketRing(server);
    } catch (IOException e) {
      throw new UncheckedIOException("could not listen for the plain-socket ring", e);
    }
  }

  int port() {
    try {
      return ((InetSocketAddress) server.getLocalAddress()).getPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Connects to the right neighbour at {@code host:port} (retrying for up to 30 s while it is not
   * listening yet), then accepts the left neighbour. Every rank connects before it accepts, which
   * cannot deadlock: a connection completes in the listener's backlog before it is accepted.
   */
  void connect(int rank, int world, String host, int port) {
    this.rank = rank;
    this.world = world;
    long until = System.nanoTime() + 30_000_000_000L;
    try {
      while (right == null) {
        try {
          right = SocketChannel.open(new InetSocketAddress(host, port));
        } catch (ConnectException e) {
          if (System.nanoTime() > until) {
            throw e;
          }
          Thread.sleep(50);
        }
      }
      right.socket().setTcpNoDelay(true);
      left = server.accept();
    } catch (IOException e) {
      throw new UncheckedIOException("could not connect the plain-socket ring", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while connecting the plain-socket ring", e);
    }
  }

  /** Sums {@code buffer} over the ring in place, in chunks of {@code chunkElements} floats. */
  void allReduceSum(float[] buffer, int chunkElements) {
    RingSchedule schedule = new RingSchedule(world, rank, buffer.length, chunkElements);
    if (outBuffer == null || outBuffer.capacity() < 4 * chunkElements) {
      outBuffer = ByteBuffer.allocateDirect(4 * chunkElements).order(ByteOrder.LITTLE_ENDIAN);
      inBuffer = ByteBuffer.allocateDirect(4 * chunkElements).order(ByteOrder.LITTLE_ENDIAN);
    }
    synchronized (progress) {
      applied = 0;
    }
    Future<?> sends = sender.submit(() -> sendAll(schedule, buffer));
    try {
      for (RingSchedule.Slot slot : schedule.receives()) {
        ByteBuffer in = inBuffer.clear().limit(4 * slot.length());
        while (in.hasRemaining()) {
          if (left.read(in) < 0) {
            throw new IOException("the left neighbour closed the plain-socket ring");
          }
        }
        in.flip();
        PayloadCodec.decode(
            UnsafeByteOperations.unsafeWrap(in),
            WireEncoding.FP32,
            buffer,
            slot.offset(),
            slot.length(),
            slot.step() <= schedule.lastReduceStep(),
            scratch);
        synchronized (progress) {
          applied++;
          progress.notifyAll();
        }
      }
      sends.get();
    } catch (IOException e) {
      sends.cancel(true);
      throw new UncheckedIOException("plain-socket ring failed", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("plain-socket ring send failed", e.getCause());
    } catch (InterruptedException e) {
      sends.cancel(true);
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted in the plain-socket ring", e);
    }
  }

  private Void sendAll(RingSchedule schedule, float[] buffer) throws Exception {
    for (int i = 0; i < schedule.sends().size(); i++) {
      int waitsFor = schedule.sendWaitsFor(i);
      synchronized (progress) {
        while (applied <= waitsFor) {
          progress.wait();
        }
      }
      RingSchedule.Slot slot = schedule.sends().get(i);
      ByteBuffer out = outBuffer.clear();
      out.asFloatBuffer().put(buffer, slot.offset(), slot.length());
      out.limit(4 * slot.length());
      while (out.hasRemaining()) {
        right.write(out);
      }
    }
    return null;
  }

  @Override
  public void close() {
    sender.shutdownNow();
    for (AutoCloseable c : new AutoCloseable[] {left, right, server}) {
      try {
        if (c != null) {
          c.close();
        }
      } catch (Exception e) {
        // Closing a benchmark's sockets; nothing to save.
      }
    }
  }
}
