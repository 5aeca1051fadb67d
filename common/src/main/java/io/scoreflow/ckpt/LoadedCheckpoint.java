package io.scoreflow.ckpt;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A verified checkpoint with its tensors decoded into the caller's {@code NDManager}; the arrays
 * belong to that manager (close it, or a sub-manager it was given, to free them).
 *
 * @param groups group name to its tensors; look tensors up by name, their order is not kept
 */
public record LoadedCheckpoint(
    Path directory, CheckpointManifest manifest, Map<String, NDList> groups)
    implements VerifiedCheckpoint {
  public LoadedCheckpoint {
    groups = Collections.unmodifiableMap(new LinkedHashMap<>(groups));
  }

  public NDList group(String group) {
    NDList tensors = groups.get(group);
    if (tensors == null) {
      throw new IllegalArgumentException(
          "checkpoint " + directory + " has no group " + group + "; it has " + groups.keySet());
    }
    return tensors;
  }

  /** The tensor named {@code name} (e.g. {@code all_modules.0.weight}) in {@code group}. */
  public NDArray tensor(String group, String name) {
    NDArray tensor = group(group).get(name);
    if (tensor == null) {
      throw new IllegalArgumentException(
          "checkpoint " + directory + ": group " + group + " has no tensor " + name);
    }
    return tensor;
  }
}
