package io.scoreflow.model;

import ai.djl.ndarray.NDArray;

/** The activations of score_sde's {@code get_act}; the CIFAR-10 configs all use {@code swish}. */
public enum Nonlinearity {
  /** {@code x * sigmoid(x)} (PyTorch's SiLU). */
  SWISH,
  ELU,
  RELU,
  /** Leaky ReLU with slope 0.2. */
  LRELU;

  /** Applies the activation; the result is a new array and {@code x} is left open. */
  NDArray apply(NDArray x) {
    switch (this) {
      case SWISH:
        try (NDArray s = x.getNDArrayInternal().sigmoid()) {
          return x.mul(s);
        }
      case ELU:
        return x.getNDArrayInternal().elu(1f);
      case RELU:
        return x.getNDArrayInternal().leakyRelu(0f);
      case LRELU:
        return x.getNDArrayInternal().leakyRelu(0.2f);
      default:
        throw new AssertionError(this);
    }
  }

  /** Parses score_sde's config name ({@code swish}, {@code elu}, {@code relu}, {@code lrelu}). */
  public static Nonlinearity parse(String name) {
    return valueOf(name.trim().toUpperCase(java.util.Locale.ROOT));
  }
}
