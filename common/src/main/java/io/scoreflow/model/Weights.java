package io.scoreflow.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import io.scoreflow.InvalidInputException;
import io.scoreflow.files.Safetensors;
import io.scoreflow.math.InPlace;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A network's weights as a safetensors file whose tensor names are exactly the PyTorch state_dict
 * keys ({@code all_modules.N.…} plus buffers such as {@code sigmas}), so that score_sde checkpoints
 * load here and ours load there ({@code model.load_state_dict(safetensors.torch.load_file(f))}).
 * Tensors are matched by name, never by position; loading is strict, like PyTorch's default.
 */
public final class Weights {
  private Weights() {}

  /**
   * Writes every parameter and buffer of {@code net} as float32 to {@code path} (through a
   * temporary file in the same directory, then an atomic rename).
   */
  public static void save(ScoreNetwork net, Path path) throws IOException {
    io.scoreflow.files.AtomicFiles.write(
        path,
        tmp -> {
          try (NDManager scratch = anyManager(net).newSubManager();
              OutputStream os = new BufferedOutputStream(Files.newOutputStream(tmp))) {
            NDList list = new NDList();
            List<Runnable> restore = new ArrayList<>();
            try {
              for (Map.Entry<String, Parameter> e : net.stateDict().entrySet()) {
                NDArray a = e.getValue().getArray();
                String old = a.getName();
                restore.add(() -> a.setName(old));
                a.setName(e.getKey());
                list.add(a);
              }
              for (Map.Entry<String, Shape> e : net.bufferShapes().entrySet()) {
                NDArray b = scratch.create(net.buffer(e.getKey()), e.getValue());
                b.setName(e.getKey());
                list.add(b);
              }
              list.encode(os, NDList.Encoding.SAFETENSORS);
            } finally {
              restore.forEach(Runnable::run);
            }
          }
        });
  }

  /**
   * Copies the tensors of {@code path} into the (initialized) parameters of {@code net}, in place,
   * so that parameter stores and optimizers holding the arrays see the new values.
   *
   * @throws InvalidInputException if the file lacks a tensor, has one the network does not, or a
   *     shape differs; the message names the tensor(s)
   */
  public static void load(ScoreNetwork net, Path path) throws IOException {
    Map<String, Parameter> params = net.stateDict();
    Map<String, Shape> buffers = net.bufferShapes();
    try (NDManager scratch = anyManager(net).newSubManager()) {
      Map<String, NDArray> file = read(scratch, path);
      List<String> problems = new ArrayList<>();
      Map<String, Shape> expected = new LinkedHashMap<>();
      params.forEach((name, p) -> expected.put(name, p.getShape()));
      expected.putAll(buffers);
      for (Map.Entry<String, Shape> e : expected.entrySet()) {
        NDArray a = file.get(e.getKey());
        if (a == null) {
          problems.add("missing tensor '" + e.getKey() + "' of shape " + e.getValue());
        } else if (!a.getShape().equals(e.getValue())) {
          problems.add(
              "tensor '"
                  + e.getKey()
                  + "' has shape "
                  + a.getShape()
                  + " but the network expects "
                  + e.getValue());
        } else if (!a.getDataType().isFloating()) {
          problems.add(
              "tensor '" + e.getKey() + "' is " + a.getDataType() + ", not floating point");
        }
      }
      for (String name : file.keySet()) {
        if (!expected.containsKey(name)) {
          problems.add(
              "unexpected tensor '" + name + "' (shape " + file.get(name).getShape() + ")");
        }
      }
      if (!problems.isEmpty()) {
        throw new InvalidInputException(
            "weights "
                + path
                + " do not fit this network ("
                + problems.size()
                + (problems.size() == 1 ? " problem" : " problems")
                + "): "
                + String.join("; ", problems.subList(0, Math.min(5, problems.size())))
                + (problems.size() > 5 ? "; …" : ""));
      }
      // Grad mode is per thread in libtorch (on in any thread but the engine's first): without
      // this, loading on another thread is refused as an in-place write into a leaf that
      // requires grad (seen when BadFilesCliTest ran after a test that started the engine).
      io.scoreflow.math.GradMode.off(
          () -> {
            for (Map.Entry<String, Parameter> e : params.entrySet()) {
              NDArray target = e.getValue().getArray();
              NDArray source = file.get(e.getKey());
              NDArray f = source.toType(target.getDataType(), false);
              InPlace.assign(target, f); // native copy; source and f die with the scratch manager
            }
          });
      for (String name : buffers.keySet()) {
        net.setBuffer(name, file.get(name).toType(DataType.FLOAT32, false).toFloatArray());
      }
    }
  }

  /**
   * Every tensor of a safetensors file by name, in {@code manager}.
   *
   * @throws io.scoreflow.files.InvalidFileException if the file is missing, unreadable or not valid
   *     safetensors (checked by {@link Safetensors} before anything is allocated)
   */
  public static Map<String, NDArray> read(NDManager manager, Path path) {
    Map<String, NDArray> byName = new LinkedHashMap<>();
    for (NDArray a : Safetensors.read(manager, path)) {
      byName.put(a.getName(), a); // names are unique: the reader refuses a duplicate
    }
    return byName;
  }

  /** Writes named tensors as one safetensors file. */
  public static void write(Map<String, NDArray> tensors, Path path) throws IOException {
    NDList list = new NDList();
    for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
      e.getValue().setName(e.getKey());
      list.add(e.getValue());
    }
    try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(path))) {
      list.encode(os, NDList.Encoding.SAFETENSORS);
    }
  }

  private static NDManager anyManager(ScoreNetwork net) {
    for (Parameter p : net.stateDict().values()) {
      if (!p.isInitialized()) {
        throw new IllegalStateException("initialize the network before loading or saving weights");
      }
      return p.getArray().getManager();
    }
    throw new IllegalStateException("network has no parameters");
  }
}
