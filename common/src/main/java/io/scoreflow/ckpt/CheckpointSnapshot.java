package io.scoreflow.ckpt;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import io.scoreflow.data.DataCursor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Everything one checkpoint holds, in memory and detached from the engine: the training loop builds
 * it (copying tensors to the heap) and hands it to the store, synchronously or through {@link
 * AsyncCheckpointWriter}.
 *
 * @param groups group name (the file is {@code <group>.safetensors}) to its tensors, in order
 */
public record CheckpointSnapshot(
    String jobId,
    long step,
    long generation,
    String config,
    DataCursor dataCursor,
    RngState rng,
    Map<String, List<HostTensor>> groups) {

  /**
   * DJL's safetensors reader addresses data with {@code int} offsets, so a file it can load holds
   * less than 2 GiB; the header takes a little of that.
   */
  static final long MAX_GROUP_BYTES = Integer.MAX_VALUE - (64L << 20);

  private static final Pattern GROUP_NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]*");

  public CheckpointSnapshot {
    groups = Collections.unmodifiableMap(new LinkedHashMap<>(groups));
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Bytes of tensor data over all groups. */
  public long byteSize() {
    return groups.values().stream().flatMap(List::stream).mapToLong(HostTensor::byteSize).sum();
  }

  /** Collects the parts of a snapshot; {@link #build()} checks that each required one is set. */
  public static final class Builder {
    private String jobId;
    private long step = -1;
    private long generation = -1;
    private String config;
    private DataCursor dataCursor;
    private RngState rng;
    private final Map<String, List<HostTensor>> groups = new LinkedHashMap<>();

    private Builder() {}

    public Builder jobId(String jobId) {
      this.jobId = jobId;
      return this;
    }

    public Builder step(long step) {
      this.step = step;
      return this;
    }

    public Builder generation(long generation) {
      this.generation = generation;
      return this;
    }

    /** The training configuration as text (HOCON or JSON), stored verbatim. */
    public Builder config(String config) {
      this.config = config;
      return this;
    }

    /** The training configuration, rendered as JSON. */
    public Builder config(com.typesafe.config.Config config) {
      this.config = config.root().render(com.typesafe.config.ConfigRenderOptions.concise());
      return this;
    }

    public Builder dataCursor(DataCursor dataCursor) {
      this.dataCursor = dataCursor;
      return this;
    }

    public Builder rng(RngState rng) {
      this.rng = rng;
      return this;
    }

    /** Adds a group of tensors already on the heap. */
    public Builder group(String name, List<HostTensor> tensors) {
      if (name == null || !GROUP_NAME.matcher(name).matches()) {
        throw new IllegalArgumentException(
            "group name must be letters, digits, '_', '.', '-' (not starting with '.' or '-'),"
                + " got "
                + name);
      }
      if (groups.containsKey(name)) {
        throw new IllegalArgumentException("group " + name + " was added twice");
      }
      groups.put(name, List.copyOf(tensors));
      return this;
    }

    /**
     * Copies each array to the heap under its map key (e.g. the PyTorch state_dict name). The
     * arrays are only read; they stay the caller's.
     */
    public Builder group(String name, Map<String, NDArray> tensors) {
      List<HostTensor> copies = new ArrayList<>(tensors.size());
      tensors.forEach((tensorName, array) -> copies.add(HostTensor.copyOf(tensorName, array)));
      return group(name, copies);
    }

    /** Copies each array to the heap under its {@link NDArray#getName() name}. */
    public Builder group(String name, NDList tensors) {
      List<HostTensor> copies = new ArrayList<>(tensors.size());
      for (NDArray array : tensors) {
        if (array.getName() == null) {
          throw new IllegalArgumentException(
              "group " + name + ": every NDArray needs a name, found one without");
        }
        copies.add(HostTensor.copyOf(array.getName(), array));
      }
      return group(name, copies);
    }

    public CheckpointSnapshot build() {
      require(jobId != null && !jobId.isBlank(), "jobId must be set");
      require(step >= 0, "step must be set and >= 0, got " + step);
      require(generation >= 0, "generation must be set and >= 0, got " + generation);
      require(config != null, "config must be set (an empty string if there is none)");
      require(dataCursor != null, "dataCursor must be set");
      require(rng != null, "rng must be set");
      require(!groups.isEmpty(), "at least one tensor group must be added");
      for (Map.Entry<String, List<HostTensor>> group : groups.entrySet()) {
        Set<String> names = new HashSet<>();
        long bytes = 0;
        for (HostTensor tensor : group.getValue()) {
          require(
              names.add(tensor.name()),
              "group " + group.getKey() + " has two tensors named " + tensor.name());
          bytes += tensor.byteSize();
        }
        require(
            bytes <= MAX_GROUP_BYTES,
            "group "
                + group.getKey()
                + " holds "
                + bytes
                + " bytes; a safetensors file DJL can read holds at most "
                + MAX_GROUP_BYTES
                + ": split it into several groups");
      }
      return new CheckpointSnapshot(jobId, step, generation, config, dataCursor, rng, groups);
    }

    private static void require(boolean condition, String message) {
      if (!condition) {
        throw new IllegalArgumentException(message);
      }
    }
  }
}
