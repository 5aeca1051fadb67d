package io.scoreflow.worker.exchange.ring;

import io.grpc.Status;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * The local side of one all-reduce step, shared by the thread that runs it (and sends) and the gRPC
 * thread that receives the left neighbour's stream. Every field below the constructor's is guarded
 * by the endpoint's lock; the buffer is not: the schedule guarantees that the chunk being received
 * and the chunk being sent never overlap (a region is received again only after what was sent from
 * it has gone round the ring), and the lock hand-over of {@link #received} orders them.
 */
final class StepExchange {

  final RingMembership membership;
  final long step;
  final float[] buffer;

  /**
   * Error feedback (bf16 only, else null): every rounding this rank makes is added here, element by
   * element, in units of this rank's contribution (see {@link RingAllReduce#allReduce(float[],
   * long, ReduceOp, float[])}).
   */
  final float[] residual;

  final ReduceOp op;
  final RingSchedule schedule;
  final WireEncoding encoding;
  final PayloadCodec.Scratch scratch;
  private final ReentrantLock lock;
  private final Condition changed;

  private int received;
  private int sent;
  private boolean applying;
  private boolean outgoingDone;
  private Status failure;
  private InboundStream inbound;

  StepExchange(
      RingMembership membership,
      long step,
      float[] buffer,
      ReduceOp op,
      RingSchedule schedule,
      WireEncoding encoding,
      PayloadCodec.Scratch scratch,
      float[] residual,
      ReentrantLock lock) {
    this.membership = membership;
    this.residual = residual;
    this.step = step;
    this.buffer = buffer;
    this.op = op;
    this.schedule = schedule;
    this.encoding = encoding;
    this.scratch = scratch;
    this.lock = lock;
    this.changed = lock.newCondition();
  }

  int elements() {
    return buffer.length;
  }

  int received() {
    return received;
  }

  int sent() {
    return sent;
  }

  void countSent() {
    sent++;
  }

  boolean receivedAll() {
    return received == schedule.receives().size();
  }

  Status failure() {
    return failure;
  }

  InboundStream inbound() {
    return inbound;
  }

  void attach(InboundStream stream) {
    inbound = stream;
    changed.signalAll();
  }

  /** Marks the start of applying chunk {@link #received()} outside the lock. */
  void beginApply() {
    applying = true;
  }

  void endApply(boolean applied) {
    applying = false;
    if (applied) {
      received++;
    }
    changed.signalAll();
  }

  void outgoingDone() {
    outgoingDone = true;
    changed.signalAll();
  }

  /**
   * Done when the right neighbour acknowledged everything and everything from the left arrived; the
   * left's stream must have been attached even when it carries no chunk (a buffer smaller than the
   * world), or this rank would finish first and then refuse that stream as stale.
   */
  boolean complete() {
    return failure == null && outgoingDone && inbound != null && receivedAll();
  }

  /** Wakes the sending thread (the outgoing stream became ready). */
  void signal() {
    changed.signalAll();
  }

  /**
   * Fails the step (the first failure wins) and ends the inbound stream with ABORTED, so the left
   * neighbour learns at once instead of at its deadline.
   */
  void fail(Status status) {
    if (failure != null) {
      return;
    }
    failure = status;
    if (inbound != null) {
      inbound.abort(
          Status.ABORTED.withDescription(
              "rank "
                  + membership.rank()
                  + " gave up step "
                  + step
                  + ": "
                  + status.getCode()
                  + " "
                  + status.getDescription()));
    }
    changed.signalAll();
  }

  /** Waits until {@code ready} holds, the step failed, or the deadline passed; lock held. */
  boolean await(BooleanSupplier ready, long deadlineNanos) {
    while (failure == null && !ready.getAsBoolean()) {
      long left = deadlineNanos - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      try {
        changed.awaitNanos(left);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        fail(Status.CANCELLED.withDescription("interrupted"));
      }
    }
    return failure == null;
  }

  /**
   * Waits (bounded) until no chunk is being applied, so that a failed step returns only when
   * nothing writes into the caller's buffer any more; lock held.
   */
  void awaitQuiescent() {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    boolean interrupted = false;
    while (applying && System.nanoTime() < until) {
      try {
        changed.awaitNanos(until - System.nanoTime());
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  String progress() {
    return "received "
        + received
        + " of "
        + schedule.receives().size()
        + " chunks from rank "
        + membership.leftRank()
        + ", sent "
        + sent
        + " of "
        + schedule.sends().size()
        + " to rank "
        + membership.rightRank();
  }
}
