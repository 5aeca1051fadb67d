package io.scoreflow.model;

import ai.djl.ndarray.NDList;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * A {@link TorchBlock} that is a {@link Layer}: DJL's {@code forward} delegates to {@link #apply}.
 */
abstract class LayerBlock extends TorchBlock implements Layer {

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    return new NDList(apply(ps, inputs.singletonOrThrow(), training));
  }
}
