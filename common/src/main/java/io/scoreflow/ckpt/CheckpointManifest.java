package io.scoreflow.ckpt;

import io.scoreflow.data.DataCursor;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The contents of a checkpoint's {@code manifest.json}: everything besides the tensors that a
 * resumed run needs, plus the size and SHA-256 of every other file so that a reader can tell a
 * complete checkpoint from a damaged one.
 *
 * @param formatVersion the on-disk format; a reader refuses any other than {@link #FORMAT_VERSION}
 * @param config the training configuration as the caller gave it (HOCON or JSON text)
 * @param files file name (inside the checkpoint directory) to its digest; tensor groups are the
 *     {@code <group>.safetensors} entries
 */
public record CheckpointManifest(
    int formatVersion,
    String jobId,
    long step,
    long generation,
    Instant createdAt,
    String config,
    DataCursor dataCursor,
    RngState rng,
    Map<String, FileDigest> files) {

  /** The format this code writes and the only one it reads. */
  public static final int FORMAT_VERSION = 1;

  public CheckpointManifest {
    Objects.requireNonNull(jobId, "jobId");
    if (step < 0 || generation < 0) {
      throw new IllegalArgumentException(
          "step and generation must be >= 0, got step " + step + ", generation " + generation);
    }
    Objects.requireNonNull(createdAt, "createdAt");
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(dataCursor, "dataCursor");
    Objects.requireNonNull(rng, "rng");
    files = Collections.unmodifiableMap(new LinkedHashMap<>(files));
  }

  /** The tensor groups this checkpoint holds, in the order they were written. */
  public List<String> groups() {
    return files.keySet().stream()
        .filter(name -> name.endsWith(CheckpointLayout.SAFETENSORS_SUFFIX))
        .map(
            name -> name.substring(0, name.length() - CheckpointLayout.SAFETENSORS_SUFFIX.length()))
        .toList();
  }
}
