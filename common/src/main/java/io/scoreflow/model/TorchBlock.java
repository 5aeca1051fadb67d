package io.scoreflow.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A DJL block whose parameters and children carry the names of the PyTorch module they port, so
 * that {@link #stateDict()} yields exactly the keys of the reference {@code state_dict()}.
 *
 * <p>DJL prefixes child names with a counter ({@code 01Conv_0}), which is fine for DJL's own
 * bookkeeping but not for interoperable checkpoints; this class keeps a second, PyTorch-named view
 * of the same tree. Every parameter shape is fixed by the constructor, so initialization does not
 * depend on the input shapes handed to {@link #initialize}.
 */
public abstract class TorchBlock extends AbstractBlock {

  private final Map<String, TorchBlock> torchChildren = new LinkedHashMap<>();
  private final Map<String, Parameter> torchParameters = new LinkedHashMap<>();

  /** Registers a child module under its PyTorch attribute name. */
  protected final <B extends TorchBlock> B child(String torchName, B block) {
    if (torchChildren.putIfAbsent(torchName, block) != null) {
      throw new IllegalStateException("duplicate child " + torchName);
    }
    return addChildBlock(torchName, block);
  }

  /** Declares a parameter of fixed shape under its PyTorch name. */
  protected final Parameter param(
      String torchName, Parameter.Type type, Shape shape, Initializer init, boolean trainable) {
    Parameter p =
        Parameter.builder()
            .setName(torchName)
            .setType(type)
            .optShape(shape)
            .optInitializer(init)
            .optRequiresGrad(trainable)
            .build();
    if (torchParameters.putIfAbsent(torchName, p) != null) {
      throw new IllegalStateException("duplicate parameter " + torchName);
    }
    return addParameter(p);
  }

  /**
   * Every parameter of this block and its descendants, keyed by the PyTorch state_dict name, in
   * module registration order.
   */
  public final Map<String, Parameter> stateDict() {
    Map<String, Parameter> out = new LinkedHashMap<>();
    collect("", out);
    return Collections.unmodifiableMap(out);
  }

  private void collect(String prefix, Map<String, Parameter> out) {
    torchParameters.forEach((name, p) -> out.put(prefix + name, p));
    torchChildren.forEach((name, b) -> b.collect(prefix + name + ".", out));
  }

  /**
   * Gives every seeded initializer in the tree its own stream, derived from {@code seed} and the
   * parameter's full name, so that values do not depend on initialization order.
   */
  protected final void seedInitializers(long seed) {
    for (Map.Entry<String, Parameter> e : stateDict().entrySet()) {
      if (e.getValue().getInitializer() instanceof SeededInitializer s) {
        e.getValue().setInitializer(s.withSeed(SeededInitializer.mix(seed, e.getKey())));
      }
    }
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... shapes) {
    // Parameter shapes are fixed at construction: children need no shape inference.
    for (Block b : getChildren().values()) {
      b.initialize(manager, dataType, shapes);
    }
  }

  /** The value of {@code p} on the device of {@code like}. */
  protected static NDArray value(ParameterStore ps, Parameter p, NDArray like, boolean training) {
    return ps.getValue(p, like.getDevice(), training);
  }
}
