package io.scoreflow.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import io.scoreflow.InvalidInputException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Entry points for building, counting, and running the score networks. */
public final class ScoreNetworks {
  private ScoreNetworks() {}

  /** The network's structure only: parameter shapes are known, no native memory is allocated. */
  public static Ncsnpp create(ScoreNetConfig config) {
    return new Ncsnpp(config);
  }

  /** A U-Net with every parameter allocated on {@code manager} and seeded-initialized. */
  public static Ncsnpp build(ScoreNetConfig config, NDManager manager) {
    Ncsnpp net = new Ncsnpp(config);
    net.initialize(manager);
    return net;
  }

  /** An MLP score network with every parameter allocated on {@code manager}. */
  public static MlpScoreNet build(MlpConfig config, NDManager manager) {
    MlpScoreNet net = new MlpScoreNet(config);
    net.initialize(manager);
    return net;
  }

  /** Number of scalar parameters, frozen ones included (buffers excluded). */
  public static long parameterCount(Block block) {
    long n = 0;
    for (Parameter p : block.getParameters().values()) {
      n += p.getShape().size();
    }
    return n;
  }

  /** Number of scalar parameters that receive gradients. */
  public static long trainableParameterCount(Block block) {
    long n = 0;
    for (Parameter p : block.getParameters().values()) {
      if (p.requiresGradient()) {
        n += p.getShape().size();
      }
    }
    return n;
  }

  /** Counts of a configuration, without allocating it. */
  public static ModelSummary summary(ScoreNetConfig config) {
    Ncsnpp net = create(config);
    return new ModelSummary(
        config.name(),
        config.nf(),
        parameterCount(net),
        trainableParameterCount(net),
        net.stateDict().size());
  }

  /**
   * Evaluation-mode forward pass ({@code training = false}: dropout off) with a fresh parameter
   * store. The result lives in the manager of {@code x}.
   */
  public static NDArray forward(ScoreNetwork net, NDArray x, NDArray cond) {
    ParameterStore ps = new ParameterStore(x.getManager(), false);
    return net.apply(ps, x, cond, false);
  }

  /**
   * {@code scoreflow model forward}: builds {@code config}, loads {@code weights}, reads tensors
   * {@code x} and {@code cond} from the safetensors file {@code input}, and writes {@code out} to
   * the safetensors file {@code output}.
   *
   * @return the shape of {@code out}
   * @throws InvalidInputException if a file is missing or does not fit the network
   */
  public static Shape forwardFile(ScoreNetConfig config, Path weights, Path input, Path output)
      throws IOException {
    try (NDManager manager = NDManager.newBaseManager()) {
      Ncsnpp net = build(config, manager);
      Weights.load(net, weights);
      try (NDManager io = manager.newSubManager()) {
        Map<String, NDArray> in = Weights.read(io, input);
        NDArray x = require(in, "x", input);
        NDArray cond = require(in, "cond", input);
        NDArray out =
            forward(net, x.toType(DataType.FLOAT32, false), cond.toType(DataType.FLOAT32, false));
        Map<String, NDArray> result = new LinkedHashMap<>();
        result.put("out", out);
        Weights.write(result, output);
        return out.getShape();
      }
    }
  }

  private static NDArray require(Map<String, NDArray> tensors, String name, Path file) {
    NDArray a = tensors.get(name);
    if (a == null) {
      throw new InvalidInputException(
          file + " has no tensor '" + name + "' (found " + tensors.keySet() + ")");
    }
    return a;
  }
}
