package io.scoreflow.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import io.scoreflow.math.GradMode;
import io.scoreflow.math.InPlace;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The trainable parameters of a network seen as one flat vector, in a fixed order (the order of the
 * given list). Gradients are gathered into it, updates are scattered from it.
 */
public final class FlatParameters {

  private final List<String> names;
  private final List<Parameter> parameters;
  private final long[] splitPoints;
  private final long size;

  /**
   * @param named the trainable parameters by name, in the order that defines the flat layout
   */
  public FlatParameters(Map<String, Parameter> named) {
    this.names = List.copyOf(named.keySet());
    this.parameters = List.copyOf(named.values());
    this.splitPoints = new long[Math.max(0, parameters.size() - 1)];
    long offset = 0;
    for (int i = 0; i < parameters.size(); i++) {
      offset += parameters.get(i).getArray().size();
      if (i < splitPoints.length) {
        splitPoints[i] = offset;
      }
    }
    this.size = offset;
  }

  /** Number of scalars. */
  public long size() {
    return size;
  }

  public List<String> names() {
    return names;
  }

  public List<Parameter> parameters() {
    return parameters;
  }

  /**
   * The gradients as one flat vector owned by {@code scope}; the stored gradients are zeroed, since
   * the PyTorch engine accumulates gradients across collectors.
   */
  public NDArray takeGradients(NDManager scope) {
    NDList pieces = new NDList(parameters.size());
    for (Parameter p : parameters) {
      NDArray grad = p.getArray().getGradient();
      // The handle is new on every call and belongs to the parameter's manager: move it to the
      // step scope, so that it is closed with the step.
      grad.attach(scope);
      pieces.add(grad.flatten());
    }
    NDArray flat = NDArrays.concat(pieces);
    for (NDArray piece : pieces) {
      piece.close();
    }
    for (Parameter p : parameters) {
      NDArray grad = p.getArray().getGradient();
      grad.attach(scope);
      InPlace.zero(grad);
    }
    return flat;
  }

  /**
   * Sets every stored gradient to exactly zero. DJL allocates gradient buffers without initialising
   * them and PyTorch accumulates into them, so the first backward would add whatever the memory
   * held; {@code muli(0)} cannot clear a NaN (0 · NaN = NaN).
   */
  public void zeroGradients(NDManager scope) {
    for (Parameter p : parameters) {
      NDArray grad = p.getArray().getGradient();
      grad.attach(scope);
      InPlace.zero(grad);
    }
  }

  /** Names of the parameters whose slice of {@code flat} holds a NaN or an infinity. */
  public List<String> nonFinite(NDArray flat) {
    List<String> bad = new ArrayList<>();
    try (NDManager scope = flat.getManager().newSubManager()) {
      NDList pieces = parameters.size() == 1 ? new NDList(flat) : flat.split(splitPoints);
      for (int i = 0; i < parameters.size(); i++) {
        NDArray piece = pieces.get(i);
        piece.attach(scope);
        NDArray finite = piece.isInfinite().logicalOr(piece.isNaN()).any();
        finite.attach(scope);
        if (finite.getBoolean()) {
          bad.add(names.get(i));
        }
      }
    }
    return bad;
  }

  /** The current values as one flat vector owned by {@code scope}. */
  public NDArray values(NDManager scope) {
    NDList pieces = new NDList(parameters.size());
    for (Parameter p : parameters) {
      NDArray view = p.getArray().flatten();
      view.attach(scope);
      pieces.add(view);
    }
    NDArray flat = NDArrays.concat(pieces);
    flat.attach(scope);
    return flat;
  }

  /** {@code p ← p − update}, slice by slice. */
  public void subtract(NDArray update) {
    scatter(update, false);
  }

  /** {@code p ← values}, slice by slice (restoring a checkpoint, or the EMA for sampling). */
  public void assign(NDArray values) {
    scatter(values, true);
  }

  private void scatter(NDArray flat, boolean assign) {
    if (flat.size() != size) {
      throw new IllegalArgumentException(
          "flat vector has " + flat.size() + " scalars, need " + size);
    }
    // Every caller writes into leaves that require grad, on whatever thread it runs (a benchmark,
    // the theory lab, a Pekko dispatcher): grad mode is per thread, so switch it off here rather
    // than trusting each caller to have done so.
    GradMode.off(() -> scatterWithoutGrad(flat, assign));
  }

  private void scatterWithoutGrad(NDArray flat, boolean assign) {
    try (NDManager scope = flat.getManager().newSubManager()) {
      NDList pieces = parameters.size() == 1 ? new NDList(flat) : flat.split(splitPoints);
      for (int i = 0; i < parameters.size(); i++) {
        NDArray target = parameters.get(i).getArray();
        NDArray piece = pieces.get(i);
        piece.attach(scope);
        NDArray shaped = piece.reshape(target.getShape());
        shaped.attach(scope);
        if (assign) {
          InPlace.assign(target, shaped);
        } else {
          target.subi(shaped);
        }
      }
    }
  }

  /** Per-parameter slices of a flat vector, by name (for checkpoints), owned by {@code manager}. */
  public List<NDArray> unflatten(NDArray flat, NDManager manager) {
    NDList pieces = parameters.size() == 1 ? new NDList(flat.duplicate()) : flat.split(splitPoints);
    List<NDArray> out = new ArrayList<>();
    for (int i = 0; i < parameters.size(); i++) {
      NDArray shaped = pieces.get(i).reshape(parameters.get(i).getShape());
      shaped.attach(manager);
      shaped.setName(names.get(i));
      out.add(shaped);
    }
    return out;
  }
}
