package io.scoreflow.worker.exchange.star;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.scoreflow.security.NodeIdentity;
import io.scoreflow.security.TransportSecurity;
import io.scoreflow.worker.exchange.ExchangeException;
import io.scoreflow.worker.exchange.ExchangeReducer;
import io.scoreflow.worker.exchange.ExchangeServer;
import io.scoreflow.worker.exchange.PeerAddress;
import io.scoreflow.worker.exchange.Wire;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fallback gradient exchange: every rank sends its gradient to rank 0, which sums them in rank
 * order, divides by the world size and sends the same mean back to everyone. Plain TCP with
 * length-prefixed little-endian float32 frames; each connection is fenced by (job, generation) in a
 * hello that rank 0 checks, and each frame by (generation, step, length). Every wait has a
 * deadline.
 *
 * <p>Correct by construction and bit-identical on every rank (they all receive rank 0's one
 * result), but rank 0 carries (N-1) gradients in and out per step: this is the reference and the
 * fallback beside the ring all-reduce ({@code io.scoreflow.worker.exchange.ring}), the default.
 */
public final class StarExchange implements ExchangeServer {

  /** Why a job with {@code wire = bf16} cannot run over the star. */
  public static final String STAR_SENDS_FP32 =
      "the star exchange sends float32 only: scoreflow.cluster.wire = bf16 needs"
          + " scoreflow.cluster.exchange = ring";

  private static final Logger LOG = LoggerFactory.getLogger(StarExchange.class);
  static final int HELLO = 0x53464831; // "SFH1"
  static final int ACK = 0x53464141; // "SFAA"
  static final int DATA = 0x53464431; // "SFD1"
  private static final int DATA_HEADER = 4 + 8 + 8 + 4;
  private static final int MAX_TEXT = 4096;

  /**
   * How long rank 0 gives one connection for its handshake and hello. Rank 0 takes connections one
   * at a time, so without this a connection that never speaks (anyone who can reach the port) would
   * hold the ring's forming up until the whole open deadline.
   */
  static final Duration HELLO_TIMEOUT = Duration.ofSeconds(10);

  private final ServerSocketChannel server;
  private final Selector acceptSelector;
  private final Duration deadline;
  private final TransportSecurity security;

  /** Rank 0's side of every TLS handshake: any worker of the job; the hello's rank is checked. */
  private final SSLContext hubTls;

  private final Set<AutoCloseable> open = ConcurrentHashMap.newKeySet();

  private StarExchange(ServerSocketChannel server, Duration deadline, TransportSecurity security)
      throws IOException {
    this.server = server;
    this.deadline = deadline;
    this.security = security;
    this.hubTls =
        security
            .material()
            .map(
                m ->
                    m.sslContext(
                        m.trustManager(
                            id -> id.role() == NodeIdentity.Role.WORKER, "a worker of this job")))
            .orElse(null);
    server.configureBlocking(false);
    this.acceptSelector = Selector.open();
    server.register(acceptSelector, SelectionKey.OP_ACCEPT);
  }

  /**
   * Listens on {@code bindHost}:{@code port} ({@code 0}: any free port); every connection runs over
   * {@code security}.
   */
  public static StarExchange start(
      String bindHost, int port, Duration deadline, TransportSecurity security) throws IOException {
    ServerSocketChannel server = ServerSocketChannel.open();
    try {
      server.bind(new InetSocketAddress(bindHost, port));
      return new StarExchange(server, deadline, security);
    } catch (IOException | RuntimeException e) {
      server.close();
      throw e;
    }
  }

  @Override
  public int port() {
    return server.socket().getLocalPort();
  }

  /**
   * {@inheritDoc}
   *
   * @throws ExchangeException for {@link Wire.Format#BF16}: the star sends float32 only (it is the
   *     fallback; a worker checks the job's config before it gets here, see {@code
   *     TrainingReplica})
   */
  @Override
  public ExchangeReducer open(
      String job, long generation, int rank, List<PeerAddress> ring, Wire wire) {
    if (wire.format() != Wire.Format.FP32) {
      throw new ExchangeException(STAR_SENDS_FP32);
    }
    int world = ring.size();
    if (rank < 0 || rank >= world) {
      throw new IllegalArgumentException("rank " + rank + " is outside a ring of " + world);
    }
    if (world == 1) {
      return ExchangeReducer.local();
    }
    long until = System.nanoTime() + deadline.toNanos();
    Fence fence = new Fence(job, generation, rank, world);
    try {
      ExchangeReducer reducer =
          rank == 0 ? openHub(fence, ring, until) : openSpoke(fence, ring.get(0), until);
      open.add(reducer);
      return reducer;
    } catch (IOException e) {
      throw new ExchangeException(
          fence + ": could not connect the star exchange: " + e.getMessage(), e);
    }
  }

  /** Rank 0 accepts one connection per other rank, refusing any that is not of this generation. */
  private Hub openHub(Fence fence, List<PeerAddress> ring, long until) throws IOException {
    Connection[] peers = new Connection[fence.world()];
    int joined = 0;
    try {
      while (joined < fence.world() - 1) {
        Connection c = accept(until, fence);
        String refusal;
        Hello hello;
        long helloUntil = Math.min(until, System.nanoTime() + HELLO_TIMEOUT.toNanos());
        try {
          c.handshake(helloUntil);
          hello = readHello(c, helloUntil);
          refusal = fence.refusal(hello, peers);
          if (refusal == null) {
            refusal = impostor(c, hello, ring);
          }
        } catch (IOException e) {
          LOG.warn("{}: dropped a connection from {}: {}", fence, c.peer(), e.getMessage());
          c.close();
          continue;
        }
        writeAck(c, refusal, until);
        if (refusal != null) {
          LOG.warn("{}: refused {}: {}", fence, c.peer(), refusal);
          c.close();
          continue;
        }
        c.naming(ring.get(hello.rank()) + " from " + c.peer().replace("peer at ", ""));
        peers[hello.rank()] = c;
        joined++;
      }
      LOG.info("{}: star exchange connected ({} peers)", fence, joined);
      return new Hub(fence, peers, deadline);
    } catch (IOException | RuntimeException e) {
      for (Connection p : peers) {
        if (p != null) {
          p.close();
        }
      }
      throw e;
    }
  }

  /**
   * Why rank 0 refuses a hello whose certificate names another worker than the one at the rank it
   * claims, or null (over plaintext there is no identity to check).
   */
  private static String impostor(Connection c, Hello hello, List<PeerAddress> ring) {
    Optional<NodeIdentity> sender = c.peerIdentity();
    String expected = ring.get(hello.rank()).workerId();
    if (sender.isEmpty() || sender.get().equals(NodeIdentity.worker(expected))) {
      return null;
    }
    return "the hello claims rank "
        + hello.rank()
        + ", which is worker "
        + expected
        + ", but its certificate names "
        + sender.get();
  }

  private Connection accept(long until, Fence fence) throws IOException {
    while (true) {
      SocketChannel ch = server.accept();
      if (ch != null) {
        SSLEngine engine = null;
        if (hubTls != null) {
          engine = hubTls.createSSLEngine();
          engine.setUseClientMode(false);
          engine.setNeedClientAuth(true);
        }
        return new Connection(ch, "peer at " + ch.getRemoteAddress(), engine);
      }
      long left = until - System.nanoTime();
      if (left <= 0) {
        throw new SocketTimeoutException(
            "rank 0 waited " + deadline + " for the other " + (fence.world() - 1) + " ranks");
      }
      acceptSelector.select(Math.max(1, Duration.ofNanos(left).toMillis()));
      acceptSelector.selectedKeys().clear();
      if (Thread.currentThread().isInterrupted()) {
        throw new java.io.InterruptedIOException("interrupted while waiting for peers");
      }
    }
  }

  private Spoke openSpoke(Fence fence, PeerAddress hub, long until) throws IOException {
    SSLEngine engine =
        security
            .material()
            .map(
                m -> {
                  SSLEngine e =
                      m.sslContext(m.trustOnly(NodeIdentity.worker(hub.workerId())))
                          .createSSLEngine(hub.host(), hub.port());
                  e.setUseClientMode(true);
                  return e;
                })
            .orElse(null);
    Connection c = Connection.connect(hub.host(), hub.port(), until, hub.toString(), engine);
    try {
      c.handshake(until);
      writeHello(c, fence, until);
      String refusal = readAck(c, until);
      if (refusal != null) {
        throw new ExchangeException(fence + ": " + hub + " refused the connection: " + refusal);
      }
      return new Spoke(fence, c, deadline);
    } catch (IOException | RuntimeException e) {
      c.close();
      throw e;
    }
  }

  @Override
  public void close() {
    for (AutoCloseable c : open) {
      try {
        c.close();
      } catch (Exception e) {
        LOG.debug("closing an exchange reducer: {}", e.getMessage());
      }
    }
    open.clear();
    try {
      acceptSelector.close();
      server.close();
    } catch (IOException e) {
      LOG.debug("closing the exchange server: {}", e.getMessage());
    }
  }

  // ---- the fence and the handshake ----

  /** Who is talking: one rank of one generation of one job. */
  record Fence(String job, long generation, int rank, int world) {
    /** Why rank 0 refuses {@code hello}, or null to accept it. */
    String refusal(Hello h, Connection[] peers) {
      if (!h.job().equals(job)) {
        return "job " + h.job() + " is not " + job;
      }
      if (h.generation() != generation) {
        return "generation " + h.generation() + " is not the current " + generation;
      }
      if (h.world() != world) {
        return "world " + h.world() + " is not " + world;
      }
      if (h.rank() <= 0 || h.rank() >= world) {
        return "rank " + h.rank() + " is not a peer of rank 0 in a ring of " + world;
      }
      if (peers[h.rank()] != null) {
        return "rank " + h.rank() + " is already connected";
      }
      return null;
    }

    @Override
    public String toString() {
      return String.format(
          Locale.ROOT, "job %s generation %d rank %d/%d", job, generation, rank, world);
    }
  }

  record Hello(String job, long generation, int rank, int world) {}

  private static void writeHello(Connection c, Fence f, long until) throws IOException {
    byte[] job = f.job().getBytes(StandardCharsets.UTF_8);
    ByteBuffer b =
        ByteBuffer.allocate(4 + 4 + job.length + 8 + 4 + 4).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(HELLO).putInt(job.length).put(job).putLong(f.generation()).putInt(f.rank());
    b.putInt(f.world()).flip();
    c.writeFully(b, until, "sending the hello");
  }

  private static Hello readHello(Connection c, long until) throws IOException {
    ByteBuffer head = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    c.readFully(head, until, "reading a hello");
    head.flip();
    if (head.getInt() != HELLO) {
      throw new IOException("not a scoreflow star exchange hello");
    }
    String job = new String(readText(c, head.getInt(), until), StandardCharsets.UTF_8);
    ByteBuffer rest = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    c.readFully(rest, until, "reading a hello");
    rest.flip();
    return new Hello(job, rest.getLong(), rest.getInt(), rest.getInt());
  }

  private static void writeAck(Connection c, String refusal, long until) throws IOException {
    byte[] text = refusal == null ? new byte[0] : refusal.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(12 + text.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(ACK).putInt(refusal == null ? 0 : 1).putInt(text.length).put(text).flip();
    c.writeFully(b, until, "answering a hello");
  }

  /** The refusal rank 0 sent, or null when accepted. */
  private static String readAck(Connection c, long until) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
    c.readFully(b, until, "waiting for rank 0 to accept the hello");
    b.flip();
    if (b.getInt() != ACK) {
      throw new IOException("rank 0 answered something that is not an acknowledgement");
    }
    int status = b.getInt();
    String text = new String(readText(c, b.getInt(), until), StandardCharsets.UTF_8);
    return status == 0 ? null : text;
  }

  private static byte[] readText(Connection c, int length, long until) throws IOException {
    if (length < 0 || length > MAX_TEXT) {
      throw new IOException("a text field of " + length + " bytes is not plausible");
    }
    ByteBuffer b = ByteBuffer.allocate(length);
    c.readFully(b, until, "reading a text field");
    return b.array();
  }

  // ---- the two ends of the star ----

  /** Frames of one connection's steps: header and float32 payload, reused across steps. */
  private static final class Frames {
    private ByteBuffer buffer = ByteBuffer.allocateDirect(0);

    ByteBuffer forCount(int count) {
      int bytes = DATA_HEADER + count * Float.BYTES;
      if (buffer.capacity() < bytes) {
        buffer = ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
      }
      buffer.clear().limit(bytes);
      return buffer;
    }

    ByteBuffer encode(Fence f, long step, float[] values) {
      ByteBuffer b = forCount(values.length);
      b.putInt(DATA).putLong(f.generation()).putLong(step).putInt(values.length);
      b.asFloatBuffer().put(values);
      b.position(b.limit()).flip();
      return b;
    }

    /** Reads one frame from {@code c} and checks its fence; the payload starts at the header. */
    ByteBuffer read(Connection c, Fence f, long step, int count, long until) throws IOException {
      ByteBuffer b = forCount(count);
      c.readFully(b, until, "receiving step " + step);
      b.flip();
      int magic = b.getInt();
      long generation = b.getLong();
      long frameStep = b.getLong();
      int frameCount = b.getInt();
      if (magic != DATA
          || generation != f.generation()
          || frameStep != step
          || frameCount != count) {
        throw new IOException(
            String.format(
                Locale.ROOT,
                "%s sent a frame of generation %d step %d with %d floats, expected generation %d"
                    + " step %d with %d",
                c.peer(),
                generation,
                frameStep,
                frameCount,
                f.generation(),
                step,
                count));
      }
      return b;
    }
  }

  /** Rank 0: gathers, averages in rank order, broadcasts. */
  private static final class Hub implements ExchangeReducer {
    private final Fence fence;
    private final Connection[] peers;
    private final Duration deadline;
    private final Frames in = new Frames();
    private final Frames out = new Frames();

    Hub(Fence fence, Connection[] peers, Duration deadline) {
      this.fence = fence;
      this.peers = peers;
      this.deadline = deadline;
    }

    @Override
    public NDArray allReduceMean(NDArray flat, long step, NDManager scope) {
      long until = System.nanoTime() + deadline.toNanos();
      float[] sum = flat.toFloatArray();
      try {
        for (int r = 1; r < peers.length; r++) {
          ByteBuffer frame = in.read(peers[r], fence, step, sum.length, until);
          java.nio.FloatBuffer values = frame.asFloatBuffer();
          for (int i = 0; i < sum.length; i++) {
            sum[i] += values.get(i);
          }
        }
        for (int i = 0; i < sum.length; i++) {
          sum[i] /= peers.length;
        }
        ByteBuffer result = out.encode(fence, step, sum);
        for (int r = 1; r < peers.length; r++) {
          result.rewind();
          peers[r].writeFully(result, until, "sending the mean of step " + step);
        }
      } catch (IOException e) {
        throw new ExchangeException(fence + " step " + step + ": " + e.getMessage(), e);
      }
      return scope.create(sum, flat.getShape());
    }

    @Override
    public void close() {
      for (Connection p : peers) {
        if (p != null) {
          p.close();
        }
      }
    }
  }

  /** Ranks 1..N-1: send the gradient, receive the mean. */
  private static final class Spoke implements ExchangeReducer {
    private final Fence fence;
    private final Connection hub;
    private final Duration deadline;
    private final Frames frames = new Frames();

    Spoke(Fence fence, Connection hub, Duration deadline) {
      this.fence = fence;
      this.hub = hub;
      this.deadline = deadline;
    }

    @Override
    public NDArray allReduceMean(NDArray flat, long step, NDManager scope) {
      long until = System.nanoTime() + deadline.toNanos();
      float[] values = flat.toFloatArray();
      try {
        hub.writeFully(frames.encode(fence, step, values), until, "sending step " + step);
        ByteBuffer frame = frames.read(hub, fence, step, values.length, until);
        frame.asFloatBuffer().get(values);
      } catch (IOException e) {
        throw new ExchangeException(fence + " step " + step + ": " + e.getMessage(), e);
      }
      return scope.create(values, flat.getShape());
    }

    @Override
    public void close() {
      hub.close();
    }
  }
}
