package io.scoreflow.worker.exchange.ring;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.Status;
import io.scoreflow.proto.v1.Chunk;
import io.scoreflow.proto.v1.Fence;
import io.scoreflow.proto.v1.RingHello;
import io.scoreflow.proto.v1.RingMessage;
import io.scoreflow.proto.v1.RingSummary;
import io.scoreflow.security.GrpcTls;
import io.scoreflow.security.NodeIdentity;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server side of one {@code Ring} call: the left neighbour's stream for one step. It admits the
 * hello through the endpoint (attach, hold or refuse), then checks every chunk against the fence
 * and the schedule before it touches the buffer, so a refused message changes nothing. It asks gRPC
 * for one message at a time and never blocks: a stream that is early waits by not asking.
 *
 * <p>All state is guarded by the endpoint's lock; the payload is applied outside it.
 */
final class InboundStream extends ServerCall.Listener<InboundMessage> {

  private static final Logger LOG = LoggerFactory.getLogger(InboundStream.class);

  private enum State {
    AWAIT_HELLO,
    PARKED,
    ATTACHED,
    CLOSED
  }

  private final RingEndpoint endpoint;
  private final ServerCall<InboundMessage, RingSummary> call;
  private State state = State.AWAIT_HELLO;
  private final Optional<NodeIdentity> peer;
  private RingHello hello;
  private StepExchange exchange;
  private boolean halfClosed;
  private long bytesReceived;

  InboundStream(RingEndpoint endpoint, ServerCall<InboundMessage, RingSummary> call) {
    this.endpoint = endpoint;
    this.call = call;
    this.peer = GrpcTls.peer(call);
  }

  RingHello hello() {
    return hello;
  }

  /** Who sent the stream, by its certificate (empty over plaintext). */
  Optional<NodeIdentity> peer() {
    return peer;
  }

  @Override
  public void onMessage(InboundMessage message) {
    try (message) {
      StepExchange ex;
      RingSchedule.Slot slot;
      Chunk chunk;
      endpoint.lock().lock();
      try {
        if (message.malformed() != null) {
          if (state == State.ATTACHED) {
            exchange.fail(message.malformed());
          }
          refuse(message.malformed());
          return;
        }
        if (state == State.AWAIT_HELLO) {
          onHello(message.message());
          return;
        }
        if (state != State.ATTACHED) {
          return;
        }
        chunk = message.message().getChunk();
        Status bad = check(message.message());
        if (!bad.isOk()) {
          refuse(bad);
          exchange.fail(bad);
          return;
        }
        ex = exchange;
        slot = ex.schedule.receives().get(ex.received());
        ex.beginApply();
      } finally {
        endpoint.lock().unlock();
      }
      RuntimeException error = null;
      try {
        apply(ex, slot, chunk);
      } catch (RuntimeException e) {
        error = e;
      }
      endpoint.lock().lock();
      try {
        ex.endApply(error == null);
        if (error != null) {
          Status failed =
              Status.INTERNAL.withDescription("could not apply " + describe(slot)).withCause(error);
          refuse(failed);
          ex.fail(failed);
        } else if (state == State.ATTACHED) {
          bytesReceived += chunk.getPayload().size();
          call.request(1);
        }
      } finally {
        endpoint.lock().unlock();
      }
    }
  }

  private void onHello(RingMessage message) {
    if (!message.hasHello()) {
      refuse(
          Status.INVALID_ARGUMENT.withDescription(
              "the first message of a Ring stream must be a hello"));
      return;
    }
    hello = message.getHello();
    endpoint.admit(this);
  }

  /** The endpoint holds this stream until its step or generation starts here; lock held. */
  void park() {
    state = State.PARKED;
  }

  /** The endpoint attached this stream to the running step; lock held. */
  void attach(StepExchange ex) {
    state = State.ATTACHED;
    exchange = ex;
    ex.attach(this);
    if (halfClosed) {
      finishIfDone();
    } else {
      call.request(1);
    }
  }

  /** Ends the stream with a refusal; lock held. */
  void refuse(Status status) {
    if (state == State.CLOSED) {
      return;
    }
    state = State.CLOSED;
    LOG.warn(
        "refused a Ring stream (sender rank {}, job '{}', generation {}, step {}): {} {}",
        hello == null ? "?" : hello.getSenderRank(),
        hello == null ? "?" : hello.getJob(),
        hello == null ? "?" : hello.getGeneration(),
        hello == null ? "?" : hello.getStep(),
        status.getCode(),
        status.getDescription());
    call.close(status, new Metadata());
  }

  /** The local step gave up: end the stream so the left neighbour learns at once; lock held. */
  void abort(Status status) {
    if (state == State.CLOSED) {
      return;
    }
    state = State.CLOSED;
    call.close(status, new Metadata());
  }

  @Override
  public void onHalfClose() {
    endpoint.lock().lock();
    try {
      halfClosed = true;
      if (state == State.AWAIT_HELLO) {
        refuse(Status.INVALID_ARGUMENT.withDescription("the Ring stream ended before its hello"));
      } else if (state == State.ATTACHED) {
        finishIfDone();
      }
    } finally {
      endpoint.lock().unlock();
    }
  }

  private void finishIfDone() {
    StepExchange ex = exchange;
    if (ex.receivedAll()) {
      state = State.CLOSED;
      call.sendHeaders(new Metadata());
      call.sendMessage(
          RingSummary.newBuilder()
              .setChunksReceived(ex.received())
              .setBytesReceived(bytesReceived)
              .build());
      call.close(Status.OK, new Metadata());
    } else {
      Status early =
          Status.INVALID_ARGUMENT.withDescription(
              "the stream of step "
                  + ex.step
                  + " ended after "
                  + ex.received()
                  + " of "
                  + ex.schedule.receives().size()
                  + " chunks");
      refuse(early);
      ex.fail(early);
    }
  }

  @Override
  public void onCancel() {
    endpoint.lock().lock();
    try {
      if (state == State.PARKED) {
        endpoint.unpark(this);
      } else if (state == State.ATTACHED && !exchange.receivedAll()) {
        exchange.fail(
            Status.UNAVAILABLE.withDescription(
                "the stream from rank "
                    + hello.getSenderRank()
                    + " was cancelled (its deadline passed, it gave up step "
                    + hello.getStep()
                    + ", or it went away)"));
      }
      state = State.CLOSED;
    } finally {
      endpoint.lock().unlock();
    }
  }

  /** Checks a chunk against the hello's fence and the next slot of the schedule; lock held. */
  private Status check(RingMessage message) {
    StepExchange ex = exchange;
    if (!message.hasChunk()) {
      return Status.INVALID_ARGUMENT.withDescription(
          "a second hello on the stream of step " + ex.step);
    }
    Chunk c = message.getChunk();
    Fence f = c.getFence();
    if (!f.getJob().equals(hello.getJob())) {
      return Status.NOT_FOUND.withDescription(
          "chunk of job '" + f.getJob() + "' on a stream of job '" + hello.getJob() + "'");
    }
    if (f.getGeneration() != hello.getGeneration()) {
      return Status.FAILED_PRECONDITION.withDescription(
          (f.getGeneration() < hello.getGeneration() ? "stale generation " : "generation ")
              + f.getGeneration()
              + " in a chunk of a stream of generation "
              + hello.getGeneration());
    }
    if (f.getStep() != ex.step) {
      return Status.FAILED_PRECONDITION.withDescription(
          "chunk of step " + f.getStep() + " on the stream of step " + ex.step);
    }
    if (ex.receivedAll()) {
      return Status.INVALID_ARGUMENT.withDescription(
          "chunk after the " + ex.received() + " chunks of step " + ex.step);
    }
    RingSchedule.Slot slot = ex.schedule.receives().get(ex.received());
    if (c.getPhase() != slot.phase(ex.schedule.world())
        || c.getSegment() != slot.segment()
        || c.getChunk() != slot.chunk()
        || c.getOffset() != slot.offset()
        || c.getElements() != slot.length()) {
      return Status.INVALID_ARGUMENT.withDescription(
          "expected "
              + describe(slot)
              + " as message "
              + ex.received()
              + ", got chunk "
              + c.getChunk()
              + " of segment "
              + c.getSegment()
              + " ("
              + c.getPhase()
              + ", offset "
              + c.getOffset()
              + ", "
              + c.getElements()
              + " elements)");
    }
    if (c.getEncoding() != ex.encoding.proto()) {
      return Status.INVALID_ARGUMENT.withDescription(
          "chunk encoded as " + c.getEncoding() + ", the step uses " + ex.encoding);
    }
    long expectedBytes = (long) slot.length() * ex.encoding.bytesPerElement();
    if (c.getPayload().size() != expectedBytes) {
      return Status.INVALID_ARGUMENT.withDescription(
          "payload of "
              + c.getPayload().size()
              + " bytes for "
              + slot.length()
              + " "
              + ex.encoding
              + " elements (expected "
              + expectedBytes
              + ")");
    }
    return Status.OK;
  }

  private String describe(RingSchedule.Slot slot) {
    return "chunk "
        + slot.chunk()
        + " of segment "
        + slot.segment()
        + " ("
        + slot.phase(exchange.schedule.world())
        + ", offset "
        + slot.offset()
        + ", "
        + slot.length()
        + " elements)";
  }

  /** Adds (reduce-scatter) or copies (all-gather) a checked chunk into the buffer. */
  private static void apply(StepExchange ex, RingSchedule.Slot slot, Chunk chunk) {
    boolean reduce = slot.step() < ex.schedule.world() - 1;
    PayloadCodec.decode(
        chunk.getPayload(),
        ex.encoding,
        ex.buffer,
        slot.offset(),
        slot.length(),
        reduce,
        ex.scratch);
    if (slot.step() == ex.schedule.lastReduceStep()) {
      // This rank now owns the fully reduced chunk; what it forwards in all-gather is final.
      float[] b = ex.buffer;
      int end = slot.offset() + slot.length();
      if (ex.op == ReduceOp.MEAN) {
        float n = ex.schedule.world();
        for (int i = slot.offset(); i < end; i++) {
          b[i] /= n;
        }
      }
      if (ex.encoding == WireEncoding.BF16) {
        // The others receive it rounded; the owner keeps the same value, so replicas agree.
        if (ex.residual != null) {
          // Error feedback: a mean's error is n times an error of this rank's contribution.
          float scale = ex.op == ReduceOp.MEAN ? ex.schedule.world() : 1f;
          for (int i = slot.offset(); i < end; i++) {
            float r = Bf16.round(b[i]);
            ex.residual[i] += scale * (b[i] - r);
            b[i] = r;
          }
        } else {
          for (int i = slot.offset(); i < end; i++) {
            b[i] = Bf16.round(b[i]);
          }
        }
      }
    }
  }
}
