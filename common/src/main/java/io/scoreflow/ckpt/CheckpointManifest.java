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
 * @param formatVersion the on-disk format: {@link #FORMAT_VERSION}, or {@link
 *     #UNCHECKSUMMED_FORMAT} for a checkpoint written before manifests had a checksum; a reader
 *     refuses any other
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

  /**
   * The format this code writes: format 1 plus {@code manifest.sha256} beside the manifest, so that
   * the manifest is verified too. The manifest's own layout did not change.
   */
  public static final int FORMAT_VERSION = 2;

  /**
   * The first format, whose manifest has no checksum. Still read, so that runs checkpointed before
   * format 2 can be resumed and sampled; every file it lists is verified, the manifest itself is
   * not (the reader warns "unverified manifest"). A run that resumes one writes format 2 from then
   * on.
   */
  public static final int UNCHECKSUMMED_FORMAT = 1;

  public CheckpointManifest {
    if (formatVersion != FORMAT_VERSION && formatVersion != UNCHECKSUMMED_FORMAT) {
      throw new IllegalArgumentException(
          "checkpoint format must be "
              + UNCHECKSUMMED_FORMAT
              + " or "
              + FORMAT_VERSION
              + ", got "
              + formatVersion);
    }
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
