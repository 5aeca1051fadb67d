package io.scoreflow.worker.exchange.ring;

import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerCallHandler;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.scoreflow.proto.v1.GradientExchangeGrpc;
import io.scoreflow.proto.v1.PingReply;
import io.scoreflow.proto.v1.PingRequest;
import io.scoreflow.proto.v1.RingHello;
import io.scoreflow.proto.v1.RingSummary;
import io.scoreflow.security.NodeIdentity;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker's server side of the gradient exchange, for the lifetime of the process: it serves
 * {@code GradientExchange} and routes each incoming {@code Ring} stream to the step this worker is
 * running. One {@link RingAllReduce} at a time joins it (a membership generation); a newer
 * generation replaces an older one and aborts its step in flight.
 *
 * <p>Admission of a stream, by its hello: another job is NOT_FOUND while a step runs here (held
 * between steps: a worker of a pool may be about to join that job), an older generation or an
 * already finished step FAILED_PRECONDITION, a sender that is not this worker's left neighbour
 * PERMISSION_DENIED (so is a sender whose certificate names another worker than the one at that
 * rank), a buffer size, chunk size or encoding that differs from the running step INVALID_ARGUMENT.
 * A stream for a step or generation this worker has not started yet is held (without reading from
 * it; gRPC's flow control then stops the sender) until it starts or the sender's deadline passes;
 * at most {@value #MAX_HELD} streams are held.
 */
public final class RingEndpoint implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(RingEndpoint.class);

  /** Streams held for a step or generation that has not started here yet. */
  static final int MAX_HELD = 8;

  /** The largest chunk payload accepted by default (a message adds a few dozen bytes to it). */
  public static final int DEFAULT_MAX_CHUNK_BYTES = 16 << 20;

  static final MethodDescriptor<InboundMessage, RingSummary> RING_METHOD =
      GradientExchangeGrpc.getRingMethod().toBuilder(
              new ZeroCopyRingMarshaller(), ProtoUtils.marshaller(RingSummary.getDefaultInstance()))
          .build();

  private final String workerId;
  private final Server server;
  private final ReentrantLock lock = new ReentrantLock();
  private final List<InboundStream> held = new ArrayList<>();
  private RingMembership membership;
  private StepExchange active;
  private long lastCompletedStep = Long.MIN_VALUE;

  private RingEndpoint(ServerBuilder<?> builder, String workerId, int maxChunkBytes) {
    this.workerId = workerId;
    ServerCallHandler<InboundMessage, RingSummary> ring =
        (call, headers) -> {
          InboundStream stream = new InboundStream(this, call);
          call.request(1);
          return stream;
        };
    ServerServiceDefinition service =
        ServerServiceDefinition.builder(GradientExchangeGrpc.SERVICE_NAME)
            .addMethod(RING_METHOD, ring)
            .addMethod(GradientExchangeGrpc.getPingMethod(), ServerCalls.asyncUnaryCall(this::ping))
            .build();
    this.server =
        builder.addService(service).maxInboundMessageSize(maxChunkBytes + (64 << 10)).build();
  }

  /**
   * Builds and starts the server from {@code builder} (TCP, e.g. {@link
   * RingTransport#serverBuilder}, or in-process). The builder's other settings are kept; the
   * maximum inbound message size is set to fit {@link #DEFAULT_MAX_CHUNK_BYTES}.
   */
  public static RingEndpoint start(ServerBuilder<?> builder, String workerId) {
    return start(builder, workerId, DEFAULT_MAX_CHUNK_BYTES);
  }

  /** As {@link #start(ServerBuilder, String)}, accepting chunks of up to {@code maxChunkBytes}. */
  public static RingEndpoint start(ServerBuilder<?> builder, String workerId, int maxChunkBytes) {
    if (maxChunkBytes < 4) {
      throw new IllegalArgumentException("maxChunkBytes must be >= 4, got " + maxChunkBytes);
    }
    RingEndpoint endpoint = new RingEndpoint(builder, workerId, maxChunkBytes);
    try {
      endpoint.server.start();
    } catch (IOException e) {
      throw new UncheckedIOException("could not start the gradient-exchange server", e);
    }
    return endpoint;
  }

  /** The TCP port the server listens on (-1 for an in-process server). */
  public int port() {
    return server.getPort();
  }

  public String workerId() {
    return workerId;
  }

  ReentrantLock lock() {
    return lock;
  }

  /** Makes {@code m} this worker's ring; refuses a generation older than the current one. */
  void join(RingMembership m) {
    lock.lock();
    try {
      if (membership != null
          && membership.job().equals(m.job())
          && m.generation() < membership.generation()) {
        throw Status.FAILED_PRECONDITION
            .withDescription(
                "cannot join generation "
                    + m.generation()
                    + " of job '"
                    + m.job()
                    + "': this worker is already at generation "
                    + membership.generation())
            .asRuntimeException();
      }
      if (active != null) {
        active.fail(Status.ABORTED.withDescription("superseded by generation " + m.generation()));
      }
      if (!m.equals(membership)) {
        lastCompletedStep = Long.MIN_VALUE;
      }
      membership = m;
      readmitHeld();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Fails the step of {@code m} in flight, if any (an abort from another thread: the worker is
   * released or its generation ended); the step's own thread then returns promptly.
   */
  void abort(RingMembership m, String why) {
    lock.lock();
    try {
      if (active != null && active.membership.equals(m)) {
        active.fail(Status.CANCELLED.withDescription(why));
      }
    } finally {
      lock.unlock();
    }
  }

  /** Starts a local step: from now on, its left neighbour's stream is attached to it. */
  void begin(StepExchange ex) {
    lock.lock();
    try {
      if (!ex.membership.equals(membership)) {
        throw Status.FAILED_PRECONDITION
            .withDescription(
                ex.membership + " is no longer this worker's ring (now " + membership + ")")
            .asRuntimeException();
      }
      if (active != null) {
        throw new IllegalStateException("step " + active.step + " is still running");
      }
      if (ex.step <= lastCompletedStep) {
        throw new IllegalArgumentException(
            "steps must increase within a generation: step "
                + ex.step
                + " after step "
                + lastCompletedStep);
      }
      active = ex;
      readmitHeld();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Ends a local step. A failed step is failed here too (if it was not yet), which ends its inbound
   * stream; the call returns once nothing writes into the step's buffer any more.
   */
  void finish(StepExchange ex, Status outcome) {
    lock.lock();
    try {
      if (!outcome.isOk()) {
        ex.fail(outcome);
        ex.awaitQuiescent();
      }
      if (active == ex) {
        active = null;
        if (outcome.isOk()) {
          lastCompletedStep = ex.step;
        }
      }
    } finally {
      lock.unlock();
    }
  }

  /** Decides about a stream whose hello just arrived: attach, hold or refuse; lock held. */
  void admit(InboundStream stream) {
    RingHello h = stream.hello();
    RingMembership m = membership;
    if (m == null || (m.job().equals(h.getJob()) && h.getGeneration() > m.generation())) {
      hold(stream);
      return;
    }
    if (!m.job().equals(h.getJob()) && active == null) {
      // No step runs here: this may be a worker of a pool between jobs, whose peers in its next
      // job started before it joined. A step of its own job refuses the stream (below) on readmit.
      hold(stream);
      return;
    }
    if (!m.job().equals(h.getJob())) {
      stream.refuse(
          Status.NOT_FOUND.withDescription(
              "job '"
                  + h.getJob()
                  + "' is not running on this worker (it runs job '"
                  + m.job()
                  + "')"));
      return;
    }
    if (h.getGeneration() < m.generation()) {
      stream.refuse(
          Status.FAILED_PRECONDITION.withDescription(
              "stale generation "
                  + h.getGeneration()
                  + " of job '"
                  + m.job()
                  + "': this worker is at generation "
                  + m.generation()));
      return;
    }
    if (h.getWorldSize() != m.worldSize() || h.getSenderRank() != m.leftRank()) {
      stream.refuse(
          Status.PERMISSION_DENIED.withDescription(
              "rank "
                  + h.getSenderRank()
                  + " of "
                  + h.getWorldSize()
                  + " is not the left neighbour of rank "
                  + m.rank()
                  + " in generation "
                  + m.generation()
                  + " (expected rank "
                  + m.leftRank()
                  + " of "
                  + m.worldSize()
                  + ")"));
      return;
    }
    Status impostor = impostor(stream, m);
    if (!impostor.isOk()) {
      stream.refuse(impostor);
      return;
    }
    StepExchange a = active;
    if (h.getStep() <= lastCompletedStep || (a != null && h.getStep() < a.step)) {
      stream.refuse(
          Status.FAILED_PRECONDITION.withDescription(
              "stale step "
                  + h.getStep()
                  + ": this worker is at step "
                  + (a != null ? a.step : lastCompletedStep)
                  + " of generation "
                  + m.generation()));
      return;
    }
    if (a == null || h.getStep() > a.step) {
      hold(stream);
      return;
    }
    Status mismatch = layoutMismatch(h, a);
    if (!mismatch.isOk()) {
      stream.refuse(mismatch);
      return;
    }
    stream.attach(a);
  }

  /**
   * PERMISSION_DENIED when the stream's certificate names another worker than the one the
   * coordinator placed at the left neighbour's rank: the rank in a hello is only a claim, the
   * certificate is the proof. Over plaintext (no identity) there is nothing to check.
   */
  private static Status impostor(InboundStream stream, RingMembership m) {
    Optional<String> expected = m.workerId(m.leftRank());
    Optional<NodeIdentity> sender = stream.peer();
    if (expected.isEmpty() || sender.isEmpty()) {
      return Status.OK;
    }
    if (sender.get().equals(NodeIdentity.worker(expected.get()))) {
      return Status.OK;
    }
    return Status.PERMISSION_DENIED.withDescription(
        "the stream claims rank "
            + m.leftRank()
            + ", which is worker "
            + expected.get()
            + " in generation "
            + m.generation()
            + ", but its certificate names "
            + sender.get());
  }

  private static Status layoutMismatch(RingHello h, StepExchange a) {
    if (a.failure() != null) {
      return Status.ABORTED.withDescription(
          "step " + a.step + " already failed here: " + a.failure().getDescription());
    }
    if (a.inbound() != null) {
      return Status.ALREADY_EXISTS.withDescription(
          "step " + a.step + " already receives a stream from rank " + h.getSenderRank());
    }
    if (h.getBufferElements() != a.elements()) {
      return Status.INVALID_ARGUMENT.withDescription(
          "wrong buffer size: rank "
              + h.getSenderRank()
              + " reduces "
              + h.getBufferElements()
              + " elements, this worker "
              + a.elements()
              + " in step "
              + a.step);
    }
    if (h.getChunkElements() != a.schedule.chunkElements()
        || h.getEncoding() != a.encoding.proto()) {
      return Status.INVALID_ARGUMENT.withDescription(
          "chunks of "
              + h.getChunkElements()
              + " "
              + h.getEncoding()
              + " elements from rank "
              + h.getSenderRank()
              + ", this worker uses "
              + a.schedule.chunkElements()
              + " "
              + a.encoding);
    }
    return Status.OK;
  }

  private void hold(InboundStream stream) {
    if (held.size() >= MAX_HELD) {
      stream.refuse(
          Status.RESOURCE_EXHAUSTED.withDescription(
              MAX_HELD + " streams already wait for a step that has not started here"));
      return;
    }
    stream.park();
    held.add(stream);
  }

  /** A held stream went away (cancelled or past its deadline); lock held. */
  void unpark(InboundStream stream) {
    held.remove(stream);
  }

  private void readmitHeld() {
    List<InboundStream> waiting = new ArrayList<>(held);
    held.clear();
    for (InboundStream s : waiting) {
      admit(s);
    }
  }

  private void ping(PingRequest request, StreamObserver<PingReply> response) {
    RingMembership m;
    lock.lock();
    try {
      m = membership;
    } finally {
      lock.unlock();
    }
    response.onNext(
        PingReply.newBuilder()
            .setWorkerId(workerId)
            .setRank(m == null ? -1 : m.rank())
            .setGeneration(m == null ? -1 : m.generation())
            .build());
    response.onCompleted();
  }

  /** Stops the server: no new streams; running ones get a few seconds, then are cancelled. */
  @Override
  public void close() {
    server.shutdown();
    try {
      if (!server.awaitTermination(2, TimeUnit.SECONDS)) {
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    }
    LOG.debug("gradient-exchange endpoint {} closed", workerId);
  }
}
