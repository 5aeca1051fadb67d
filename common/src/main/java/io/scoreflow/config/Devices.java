package io.scoreflow.config;

import ai.djl.Device;
import ai.djl.engine.Engine;
import io.scoreflow.InvalidInputException;

/** {@code --device cpu|gpu|auto} as a DJL device, with one clear error when no GPU is visible. */
public final class Devices {

  private Devices() {}

  public static Device parse(String name) {
    return switch (name) {
      case "cpu" -> Device.cpu();
      case "auto" -> Engine.getInstance().getGpuCount() > 0 ? Device.gpu() : Device.cpu();
      case "gpu" -> {
        if (Engine.getInstance().getGpuCount() == 0) {
          throw new InvalidInputException(
              "--device gpu: libtorch sees no GPU; install a CUDA libtorch and point DJL at it"
                  + " with PYTORCH_LIBRARY_PATH, PYTORCH_VERSION and PYTORCH_FLAVOR");
        }
        yield Device.gpu();
      }
      default ->
          throw new InvalidInputException("--device must be cpu, gpu or auto, got '" + name + "'");
    };
  }
}
