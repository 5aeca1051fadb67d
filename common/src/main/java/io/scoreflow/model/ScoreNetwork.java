package io.scoreflow.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.Map;

/**
 * A score network: a DJL block computing {@code NDList(x, cond) -> NDList(out)}, whose parameters
 * and buffers carry PyTorch state_dict names (see {@link Weights}).
 */
public abstract class ScoreNetwork extends TorchBlock {

  /**
   * The raw network function.
   *
   * @param x the batch, (B, ...) as given by {@link #inputShapes(long)}
   * @param cond the conditioning scalar per sample, (B)
   * @return {@code out}, shaped like {@code x}, in the manager of {@code x}
   */
  public abstract NDArray apply(ParameterStore ps, NDArray x, NDArray cond, boolean training);

  /** Shapes of {@code x} and {@code cond} for a batch of the given size. */
  public abstract Shape[] inputShapes(long batch);

  /**
   * Non-trainable tensors that belong to the state_dict but are no parameters (PyTorch buffers),
   * name to shape; empty unless overridden.
   */
  public Map<String, Shape> bufferShapes() {
    return Map.of();
  }

  /** The current value of a buffer named in {@link #bufferShapes()}. */
  public float[] buffer(String name) {
    throw new IllegalArgumentException("no buffer " + name);
  }

  /** Replaces a buffer's value (shape already checked by the caller). */
  void setBuffer(String name, float[] values) {
    throw new IllegalArgumentException("no buffer " + name);
  }

  /** Allocates every parameter on {@code manager} with the seeded reference initialization. */
  public void initialize(NDManager manager) {
    initialize(manager, DataType.FLOAT32, inputShapes(1));
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    return new NDList(apply(ps, inputs.get(0), inputs.get(1), training));
  }

  @Override
  public Shape[] getOutputShapes(Shape[] shapes) {
    return new Shape[] {shapes[0]};
  }
}
