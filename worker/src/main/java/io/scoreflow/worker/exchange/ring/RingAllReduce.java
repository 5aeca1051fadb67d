package io.scoreflow.worker.exchange.ring;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Deadline;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.ProtoUtils;
import io.scoreflow.proto.v1.Chunk;
import io.scoreflow.proto.v1.Fence;
import io.scoreflow.proto.v1.GradientExchangeGrpc;
import io.scoreflow.proto.v1.PingReply;
import io.scoreflow.proto.v1.PingRequest;
import io.scoreflow.proto.v1.RingHello;
import io.scoreflow.proto.v1.RingMessage;
import io.scoreflow.proto.v1.RingSummary;
import io.scoreflow.security.NodeIdentity;
import io.scoreflow.security.TransportSecurity;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One membership generation of the ring all-reduce: this worker's rank, the world size and its
 * right-hand neighbour. {@link #allReduce} sums (or averages) a flat float32 buffer in place over
 * all ranks with reduce-scatter then all-gather, chunk by chunk and pipelined (see {@link
 * RingSchedule}), within a deadline.
 *
 * <p>The calling thread is the sender: once the chunk it forwards has arrived and the stream is
 * ready, it hands gRPC a chunk that encodes itself from the buffer into gRPC's output buffers,
 * through a 4 KiB staging array, inside {@code sendMessage} ({@link OutboundMessage}); so at most
 * about two chunks per direction are buffered whatever the buffer size. The left neighbour's stream
 * is received by the {@link RingEndpoint} on gRPC's thread, which adds or copies each chunk
 * straight into the buffer and never blocks.
 *
 * <pre>{@code
 * try (RingEndpoint endpoint =
 *         RingEndpoint.start(RingTransport.serverBuilder(new InetSocketAddress(port)), "w0");
 *     RingAllReduce ring =
 *         RingAllReduce.builder()
 *             .endpoint(endpoint)
 *             .job("cifar-vp")
 *             .generation(3)
 *             .rank(0)
 *             .peers(List.of("10.0.0.1:7070", "10.0.0.2:7070", "10.0.0.3:7070"))
 *             .build()) {
 *   ring.allReduce(gradient, step, ReduceOp.MEAN); // throws StatusRuntimeException on failure
 * }
 * }</pre>
 */
public final class RingAllReduce implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(RingAllReduce.class);

  /**
   * Default chunk payload. The field notes suggested 4 MiB (best for one gRPC stream); in the
   * 3-process ring on 2 cores, 256 KiB to 1 MiB chunks cost about 15% less CPU per all-reduce (0.26
   * against 0.31 CPU-seconds for 64 MiB): a chunk is added into the buffer while the kernel has
   * just copied it into cache, and the pipeline is finer. 1 MiB keeps messages few.
   */
  public static final int DEFAULT_CHUNK_BYTES = 1 << 20;

  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

  /**
   * Bytes of the staging array through which payloads are encoded into gRPC's buffers. Each byte
   * sent is copied twice (floats into the array, the array into gRPC's buffer); with 4 KiB the
   * second copy reads from the L1 cache: float[] to direct buffer ran at 17-20 GB/s through 4 KiB,
   * 14 GB/s through 8 KiB and 8.5 GB/s through 64 KiB on the development machine; in the 3-process
   * ring, 0.27 against 0.29 CPU-seconds per 64 MiB all-reduce (medians of six or more runs on a
   * loaded machine; one profile showed the sending thread about 10% dearer, so the gain is small
   * either way).
   */
  static final int STAGING_BYTES = 4 << 10;

  static final MethodDescriptor<OutboundMessage, RingSummary> SEND_METHOD =
      GradientExchangeGrpc.getRingMethod().toBuilder(
              new OutboundRingMarshaller(), ProtoUtils.marshaller(RingSummary.getDefaultInstance()))
          .build();

  private final RingEndpoint endpoint;
  private final RingMembership membership;
  private final Channel right;
  private final ManagedChannel ownedChannel;
  private final WireEncoding encoding;
  private final int chunkElements;
  private final Duration timeout;
  private final int sendQueueBytes;
  private final byte[] staging;
  private final short[] halves;
  private final PayloadCodec.Scratch scratch;
  private final AtomicBoolean running = new AtomicBoolean();
  private RingSchedule schedule;

  private RingAllReduce(Builder b) {
    this.endpoint = b.endpoint;
    this.membership = new RingMembership(b.job, b.generation, b.rank, b.worldSize, b.peerIds);
    this.encoding = b.encoding;
    this.chunkElements = b.chunkBytes / b.encoding.bytesPerElement();
    this.timeout = b.timeout;
    this.sendQueueBytes = b.sendQueueBytes > 0 ? b.sendQueueBytes : b.chunkBytes + (64 << 10);
    if (b.worldSize == 1) {
      this.ownedChannel = null;
      this.right = null;
      this.staging = new byte[0];
      this.halves = new short[0];
      this.scratch = null;
    } else {
      this.ownedChannel =
          b.rightChannel == null
              ? RingTransport.channel(
                  b.peers.get(membership.rightRank()),
                  b.security,
                  membership
                      .workerId(membership.rightRank())
                      .map(NodeIdentity::worker)
                      .orElse(null))
              : null;
      this.right = b.rightChannel != null ? b.rightChannel : ownedChannel;
      this.staging = new byte[STAGING_BYTES];
      this.halves = new short[STAGING_BYTES / 2];
      this.scratch = new PayloadCodec.Scratch();
    }
    endpoint.join(membership);
  }

  public static Builder builder() {
    return new Builder();
  }

  public int rank() {
    return membership.rank();
  }

  public int worldSize() {
    return membership.worldSize();
  }

  public String job() {
    return membership.job();
  }

  public long generation() {
    return membership.generation();
  }

  /** What chunk payloads travel as. */
  public WireEncoding encoding() {
    return encoding;
  }

  /**
   * Replaces {@code buffer} by the element-wise sum or mean of every rank's buffer of this step.
   * All ranks must call it with the same step and buffer length; steps increase within a
   * generation. With one rank it returns at once (the identity). On success every rank holds
   * bit-identical values.
   *
   * @throws StatusRuntimeException when the step fails: DEADLINE_EXCEEDED if it did not complete
   *     within the timeout, or the status of the refusal or failure that ended it (the description
   *     names the step and the progress). The buffer then holds partial results; nothing writes
   *     into it after this method returns.
   */
  public void allReduce(float[] buffer, long step, ReduceOp op) {
    allReduce(buffer, step, op, null);
  }

  /**
   * As {@link #allReduce(float[], long, ReduceOp)} on a bf16 ring, adding to {@code residual} what
   * each rounding this rank makes drops, in units of this rank's contribution: {@code v − bf16(v)}
   * for every partial sum it sends in the reduce-scatter (its own values first), and, for the
   * segment it owns, {@code n·(m − bf16(m))} for the mean {@code m} of n ranks (or {@code s −
   * bf16(s)} for a sum). Adding the residual to the next buffer (error feedback) then makes the
   * results of many steps add up to the sums of their exact results, give or take one residual,
   * instead of drifting by one rounding error per step.
   *
   * @param residual as long as {@code buffer}, or null (no error feedback); the caller keeps it
   * @throws IllegalArgumentException for a residual on an fp32 ring (which rounds nothing) or of
   *     another length
   */
  public void allReduce(float[] buffer, long step, ReduceOp op, float[] residual) {
    Objects.requireNonNull(buffer, "buffer");
    Objects.requireNonNull(op, "op");
    if (residual != null && (encoding != WireEncoding.BF16 || residual.length != buffer.length)) {
      throw new IllegalArgumentException(
          "a residual needs a bf16 ring and the buffer's length ("
              + buffer.length
              + "), got "
              + encoding
              + " and "
              + residual.length);
    }
    if (membership.worldSize() == 1) {
      return;
    }
    if (!running.compareAndSet(false, true)) {
      throw new IllegalStateException("allReduce is already running on this ring");
    }
    try {
      run(buffer, step, op, residual);
    } finally {
      running.set(false);
    }
  }

  private void run(float[] buffer, long step, ReduceOp op, float[] residual) {
    long deadlineNanos = System.nanoTime() + timeout.toNanos();
    ReentrantLock lock = endpoint.lock();
    StepExchange ex =
        new StepExchange(
            membership,
            step,
            buffer,
            op,
            scheduleFor(buffer.length),
            encoding,
            scratch,
            residual,
            lock);
    endpoint.begin(ex);
    ClientCall<OutboundMessage, RingSummary> call =
        right.newCall(
            SEND_METHOD,
            CallOptions.DEFAULT
                .withDeadline(Deadline.after(timeout.toNanos(), TimeUnit.NANOSECONDS))
                .withOnReadyThreshold(sendQueueBytes));
    Status outcome = Status.UNKNOWN.withDescription("interrupted by an unexpected error");
    try {
      call.start(new Outgoing(ex, lock), new Metadata());
      call.request(1);
      call.sendMessage(OutboundMessage.of(hello(ex)));
      outcome = send(ex, call, deadlineNanos);
      if (outcome.isOk()) {
        call.halfClose();
        outcome = await(ex, lock, ex::complete, deadlineNanos);
      }
    } catch (RuntimeException e) {
      outcome = Status.INTERNAL.withDescription("unexpected error: " + e).withCause(e);
    } finally {
      if (!outcome.isOk()) {
        call.cancel("all-reduce step " + step + " failed: " + outcome.getDescription(), null);
      }
      endpoint.finish(ex, outcome);
    }
    if (!outcome.isOk()) {
      String progress;
      lock.lock();
      try {
        progress = ex.progress();
      } finally {
        lock.unlock();
      }
      LOG.warn(
          "{} step {}: all-reduce failed: {} {} ({})",
          membership,
          step,
          outcome.getCode(),
          outcome.getDescription(),
          progress);
      throw outcome
          .withDescription(
              "all-reduce of step "
                  + step
                  + " ("
                  + membership
                  + ") failed: "
                  + outcome.getDescription()
                  + "; "
                  + progress)
          .asRuntimeException();
    }
  }

  /** Sends the step's chunks in schedule order; returns OK or the status that stopped it. */
  private Status send(
      StepExchange ex, ClientCall<OutboundMessage, RingSummary> call, long deadline) {
    RingSchedule s = ex.schedule;
    List<RingSchedule.Slot> sends = s.sends();
    Fence fence =
        Fence.newBuilder()
            .setJob(membership.job())
            .setGeneration(membership.generation())
            .setStep(ex.step)
            .build();
    ReentrantLock lock = endpoint.lock();
    for (int i = 0; i < sends.size(); i++) {
      int waitsFor = s.sendWaitsFor(i);
      Status ready = await(ex, lock, () -> ex.received() > waitsFor && call.isReady(), deadline);
      if (!ready.isOk()) {
        return ready;
      }
      RingSchedule.Slot slot = sends.get(i);
      if (ex.residual != null && slot.step() < s.world() - 1) {
        // A partial sum (this rank's own values first) goes out rounded: keep what it drops.
        float[] b = ex.buffer;
        for (int e = slot.offset(), end = e + slot.length(); e < end; e++) {
          ex.residual[e] += b[e] - Bf16.round(b[e]);
        }
      }
      Chunk header =
          Chunk.newBuilder()
              .setFence(fence)
              .setPhase(slot.phase(s.world()))
              .setSegment(slot.segment())
              .setChunk(slot.chunk())
              .setOffset(slot.offset())
              .setElements(slot.length())
              .setEncoding(encoding.proto())
              .build();
      // The payload is encoded from the buffer into gRPC's own buffers while sendMessage drains
      // the message, which it does before returning: the stream is ready (so a call started
      // before its connection no longer queues messages) and retries are off (nothing keeps the
      // message to replay it). So the slot may change afterwards and the staging array is free.
      call.sendMessage(
          OutboundMessage.chunk(
              header, ex.buffer, slot.offset(), slot.length(), encoding, staging, halves));
      lock.lock();
      try {
        ex.countSent();
      } finally {
        lock.unlock();
      }
    }
    return Status.OK;
  }

  /** Waits for {@code ready}; returns OK, the step's failure, or DEADLINE_EXCEEDED. */
  private Status await(StepExchange ex, ReentrantLock lock, BooleanSupplier ready, long deadline) {
    lock.lock();
    try {
      if (ex.await(ready, deadline)) {
        return Status.OK;
      }
      if (ex.failure() == null) {
        ex.fail(
            Status.DEADLINE_EXCEEDED.withDescription(
                "no progress within the deadline of " + timeout.toMillis() + " ms"));
      }
      return ex.failure();
    } finally {
      lock.unlock();
    }
  }

  private RingMessage hello(StepExchange ex) {
    return RingMessage.newBuilder()
        .setHello(
            RingHello.newBuilder()
                .setJob(membership.job())
                .setGeneration(membership.generation())
                .setSenderRank(membership.rank())
                .setWorldSize(membership.worldSize())
                .setBufferElements(ex.elements())
                .setStep(ex.step)
                .setChunkElements(chunkElements)
                .setEncoding(encoding.proto()))
        .build();
  }

  private RingSchedule scheduleFor(int elements) {
    RingSchedule s = schedule;
    if (s == null || s.elements() != elements) {
      s = new RingSchedule(membership.worldSize(), membership.rank(), elements, chunkElements);
      schedule = s;
    }
    return s;
  }

  /**
   * Asks the right neighbour's endpoint who it is, until it answers as worker {@code
   * expectedWorkerId}, rank {@code rightRank} of this generation, or {@code deadlineNanos} passes.
   * Opening a ring this way proves before the first step that the neighbour is reachable, speaks
   * this protocol, is the worker the ring names and has joined the same generation (a stale or
   * foreign peer never answers so).
   *
   * @throws StatusRuntimeException DEADLINE_EXCEEDED naming the last answer or error
   */
  void awaitRightNeighbour(String expectedWorkerId, long deadlineNanos) {
    if (membership.worldSize() == 1) {
      return;
    }
    PingRequest request =
        PingRequest.newBuilder()
            .setJob(membership.job())
            .setGeneration(membership.generation())
            .build();
    String last = "no answer yet";
    while (true) {
      long left = deadlineNanos - System.nanoTime();
      if (left <= 0) {
        throw Status.DEADLINE_EXCEEDED
            .withDescription(
                membership
                    + ": rank "
                    + membership.rightRank()
                    + " ("
                    + expectedWorkerId
                    + ") did not join generation "
                    + membership.generation()
                    + " in time; last answer: "
                    + last)
            .asRuntimeException();
      }
      try {
        PingReply reply =
            GradientExchangeGrpc.newBlockingStub(right)
                .withDeadlineAfter(
                    Math.min(left, TimeUnit.SECONDS.toNanos(5)), TimeUnit.NANOSECONDS)
                .ping(request);
        if (reply.getWorkerId().equals(expectedWorkerId)
            && reply.getRank() == membership.rightRank()
            && reply.getGeneration() == membership.generation()) {
          return;
        }
        last =
            reply.getWorkerId()
                + " is rank "
                + reply.getRank()
                + " of generation "
                + reply.getGeneration();
      } catch (StatusRuntimeException e) {
        last = e.getStatus().getCode() + " " + e.getStatus().getDescription();
      }
      try {
        Thread.sleep(Math.min(100, Math.max(1, TimeUnit.NANOSECONDS.toMillis(left))));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw Status.CANCELLED
            .withDescription(membership + ": interrupted while waiting for the right neighbour")
            .asRuntimeException();
      }
    }
  }

  /**
   * Shuts the channel to the right neighbour down (when this ring built it). Callable from another
   * thread to abort: a step in flight then has its outgoing stream cancelled at once and fails.
   */
  @Override
  public void close() {
    if (running.get()) {
      endpoint.abort(membership, membership + ": closed while a step was running");
    }
    if (ownedChannel != null) {
      if (running.get()) {
        ownedChannel.shutdownNow();
      }
      ownedChannel.shutdown();
      try {
        if (!ownedChannel.awaitTermination(2, TimeUnit.SECONDS)) {
          ownedChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        ownedChannel.shutdownNow();
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * The listener of the outgoing stream: readiness wakes the sender, the end completes the step.
   */
  private final class Outgoing extends ClientCall.Listener<RingSummary> {
    private final StepExchange ex;
    private final ReentrantLock lock;

    Outgoing(StepExchange ex, ReentrantLock lock) {
      this.ex = ex;
      this.lock = lock;
    }

    @Override
    public void onReady() {
      lock.lock();
      try {
        ex.signal();
      } finally {
        lock.unlock();
      }
    }

    @Override
    public void onClose(Status status, Metadata trailers) {
      lock.lock();
      try {
        if (status.isOk()) {
          ex.outgoingDone();
        } else {
          ex.fail(
              status.withDescription(
                  "rank "
                      + membership.rightRank()
                      + " ended the stream of step "
                      + ex.step
                      + ": "
                      + status.getDescription()));
        }
      } finally {
        lock.unlock();
      }
    }
  }

  /** Options of one generation's ring; {@link #build()} validates them and joins the endpoint. */
  public static final class Builder {
    private RingEndpoint endpoint;
    private String job;
    private long generation = -1;
    private int rank = -1;
    private int worldSize = -1;
    private List<String> peers;
    private List<String> peerIds = List.of();
    private TransportSecurity security = TransportSecurity.plaintext();
    private Channel rightChannel;
    private int chunkBytes = DEFAULT_CHUNK_BYTES;
    private WireEncoding encoding = WireEncoding.FP32;
    private Duration timeout = DEFAULT_TIMEOUT;
    private int sendQueueBytes;

    private Builder() {}

    /** This worker's server side, which receives the left neighbour's streams. */
    public Builder endpoint(RingEndpoint endpoint) {
      this.endpoint = endpoint;
      return this;
    }

    public Builder job(String job) {
      this.job = job;
      return this;
    }

    /** The membership generation (from the coordinator); older generations are refused. */
    public Builder generation(long generation) {
      this.generation = generation;
      return this;
    }

    public Builder rank(int rank) {
      this.rank = rank;
      return this;
    }

    /**
     * Every rank's endpoint address ({@code host:port}) in ring order; the world size is their
     * number. The ring opens (and owns) a channel to {@code peers[(rank + 1) % size]}.
     */
    public Builder peers(List<String> peers) {
      this.peers = List.copyOf(peers);
      this.worldSize = peers.size();
      return this;
    }

    /**
     * The worker id of every rank, in the order of {@link #peers}: the endpoint admits a stream
     * only from the left neighbour's identity, and the channel trusts only the right neighbour's.
     * Needed with {@link #security} mutual TLS.
     */
    public Builder peerIds(List<String> ids) {
      this.peerIds = List.copyOf(ids);
      return this;
    }

    /** How the channel to the right neighbour is protected (default plaintext). */
    public Builder security(TransportSecurity security) {
      this.security = security;
      return this;
    }

    /**
     * Instead of {@link #peers}: a caller-owned channel to the right neighbour (e.g. in-process).
     */
    public Builder rightNeighbour(Channel channel, int worldSize) {
      this.rightChannel = channel;
      this.worldSize = worldSize;
      return this;
    }

    /** Payload bytes per chunk (default 1 MiB); a multiple of the element size. */
    public Builder chunkBytes(int chunkBytes) {
      this.chunkBytes = chunkBytes;
      return this;
    }

    public Builder encoding(WireEncoding encoding) {
      this.encoding = encoding;
      return this;
    }

    /** The deadline of each {@link #allReduce} call (default 60 s). */
    public Builder timeout(Duration timeout) {
      this.timeout = timeout;
      return this;
    }

    /** Bytes gRPC may queue on the outgoing stream before the sender waits (default a chunk). */
    Builder sendQueueBytes(int bytes) {
      this.sendQueueBytes = bytes;
      return this;
    }

    public RingAllReduce build() {
      require(endpoint != null, "endpoint must be set");
      require(job != null && !job.isEmpty(), "job must be set");
      require(generation >= 0, "generation must be set (>= 0), got " + generation);
      require(worldSize >= 1, "peers (or rightNeighbour) must be set");
      require(rank >= 0 && rank < worldSize, "rank must be in [0, " + worldSize + "), got " + rank);
      require(
          peers == null || rightChannel == null, "set either peers or rightNeighbour, not both");
      require(
          peerIds.isEmpty() || peerIds.size() == worldSize,
          peerIds.size() + " peer ids for a ring of " + worldSize);
      require(
          !security.isTls() || rightChannel != null || !peerIds.isEmpty(),
          "a ring over mutual TLS needs the peers' ids");
      require(encoding != null, "encoding must be set");
      require(
          chunkBytes >= encoding.bytesPerElement() && chunkBytes % encoding.bytesPerElement() == 0,
          "chunkBytes must be a positive multiple of "
              + encoding.bytesPerElement()
              + ", got "
              + chunkBytes);
      require(
          timeout != null && !timeout.isNegative() && !timeout.isZero(),
          "timeout must be positive, got " + timeout);
      return new RingAllReduce(this);
    }

    private static void require(boolean ok, String message) {
      if (!ok) {
        throw new IllegalArgumentException(message);
      }
    }
  }
}
