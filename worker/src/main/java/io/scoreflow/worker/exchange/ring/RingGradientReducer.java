package io.scoreflow.worker.exchange.ring;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.scoreflow.train.GradientReducer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * The trainer's {@link GradientReducer} over a {@link RingAllReduce}: copies the flat gradient once
 * into a reused {@code float[]}, averages it over the ring, and creates the result in the step's
 * scope. Not thread-safe (one trainer, one step at a time), like the ring itself.
 *
 * <p>With error feedback (a bf16 ring, {@link io.scoreflow.worker.exchange.Wire}) it sends {@code q
 * = bf16(g + e)} and keeps {@code e ← g + e − q}: what this rank's rounding dropped joins its next
 * gradient instead of being lost, so over many steps the rounding errors of its own contributions
 * cancel rather than add up. The ring's first send of this rank's values then rounds nothing.
 */
public final class RingGradientReducer implements GradientReducer {

  private final RingAllReduce ring;
  private final boolean errorFeedback;
  private float[] buffer = new float[0];

  /** The rounding residual carried to the next step (error feedback only); zero at the start. */
  private float[] residual = new float[0];

  /** Without error feedback. */
  public RingGradientReducer(RingAllReduce ring) {
    this(ring, false);
  }

  /**
   * @param errorFeedback carry each step's bf16 rounding residual to the next (needs a ring of
   *     {@link WireEncoding#BF16})
   */
  public RingGradientReducer(RingAllReduce ring, boolean errorFeedback) {
    this.ring = Objects.requireNonNull(ring, "ring");
    if (errorFeedback && ring.encoding() != WireEncoding.BF16) {
      throw new IllegalArgumentException(
          "error feedback needs a bf16 ring, not " + ring.encoding());
    }
    this.errorFeedback = errorFeedback;
  }

  /**
   * {@inheritDoc}
   *
   * @throws io.grpc.StatusRuntimeException when the all-reduce fails (see {@link
   *     RingAllReduce#allReduce})
   */
  @Override
  public NDArray allReduceMean(NDArray flat, long step, NDManager scope) {
    if (ring.worldSize() == 1) {
      return flat;
    }
    if (flat.getDataType() != DataType.FLOAT32) {
      throw new IllegalArgumentException(
          "the flat gradient must be float32, got " + flat.getDataType());
    }
    int n = Math.toIntExact(flat.size());
    if (buffer.length != n) {
      buffer = new float[n];
      residual = new float[errorFeedback ? n : 0];
    }
    // A direct view of the tensor's memory where the engine allows it; read before anything else.
    flat.toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer().get(buffer, 0, n);
    if (errorFeedback) {
      // What earlier roundings dropped joins this step's contribution; the ring records anew.
      for (int i = 0; i < n; i++) {
        buffer[i] += residual[i];
        residual[i] = 0f;
      }
      ring.allReduce(buffer, step, ReduceOp.MEAN, residual);
    } else {
      ring.allReduce(buffer, step, ReduceOp.MEAN);
    }
    return scope.create(buffer, flat.getShape());
  }

  /** Drops the residual: a checkpoint step, after which a resumed run starts with none either. */
  @Override
  public void checkpointed() {
    java.util.Arrays.fill(residual, 0f);
  }

  /** The residual carried into the next step (a copy; empty without error feedback). */
  float[] residual() {
    return residual.clone();
  }
}
