package io.scoreflow.model;

import ai.djl.ndarray.NDArray;
import ai.djl.training.ParameterStore;

/**
 * A block with one tensor in and one tensor out, callable without wrapping in an {@code NDList}.
 * The result is a new array in the input's manager; the input is never closed.
 */
interface Layer {
  NDArray apply(ParameterStore ps, NDArray x, boolean training);
}
