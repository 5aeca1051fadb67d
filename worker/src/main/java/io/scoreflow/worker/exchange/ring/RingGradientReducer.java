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
 */
public final class RingGradientReducer implements GradientReducer {

  private final RingAllReduce ring;
  private float[] buffer = new float[0];

  public RingGradientReducer(RingAllReduce ring) {
    this.ring = Objects.requireNonNull(ring, "ring");
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
    }
    // A direct view of the tensor's memory where the engine allows it; read before anything else.
    flat.toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer().get(buffer, 0, n);
    ring.allReduce(buffer, step, ReduceOp.MEAN);
    return scope.create(buffer, flat.getShape());
  }
}
