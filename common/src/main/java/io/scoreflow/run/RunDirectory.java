package io.scoreflow.run;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import io.scoreflow.InvalidInputException;
import io.scoreflow.ckpt.CheckpointReader;
import io.scoreflow.ckpt.CompletedCheckpoint;
import io.scoreflow.ckpt.LoadedCheckpoint;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;

/**
 * The layout and rules of a run directory, shared by the single-process run ({@link
 * io.scoreflow.train.TrainJob}) and the distributed one (a coordinator and its replicas): {@code
 * config.conf} (the resolved config), {@code checkpoints/} (the checkpoint store, written by one
 * process only), and the event logs ({@code events.jsonl} for a single process, {@code
 * events-rank-K.jsonl} per replica).
 *
 * <p>The rules: a directory that already holds a checkpoint is only continued when asked to resume,
 * and a checkpoint is only continued by a config that trains the same thing.
 */
public final class RunDirectory {

  public static final String CONFIG = "config.conf";
  public static final String CHECKPOINTS = "checkpoints";
  public static final String EVENTS = "events.jsonl";

  /** Config paths that must match between a checkpoint and the run that resumes it. */
  private static final List<String> MUST_MATCH =
      List.of(
          "scoreflow.sde",
          "scoreflow.model",
          "scoreflow.data",
          "scoreflow.train.seed",
          TrainSettings.BATCH_SIZE,
          "scoreflow.train.eps",
          "scoreflow.train.ema-rate",
          "scoreflow.train.optim");

  private final Path dir;

  public RunDirectory(Path dir) {
    this.dir = dir.toAbsolutePath().normalize();
  }

  public Path path() {
    return dir;
  }

  public Path checkpoints() {
    return dir.resolve(CHECKPOINTS);
  }

  /** Reads the checkpoints without taking the writer's lock (any process may read). */
  public CheckpointReader reader() {
    return CheckpointReader.of(checkpoints());
  }

  /** The event log of replica {@code rank}: {@code events-rank-K.jsonl}. */
  public Path replicaEvents(int rank) {
    return dir.resolve("events-rank-" + rank + ".jsonl");
  }

  /** The newest checkpoint whose files all match their digests, if any (tensors not loaded). */
  public Optional<CompletedCheckpoint> newestValid() {
    return newestValidAtMost(Long.MAX_VALUE);
  }

  /** As {@link #newestValid()}, among the checkpoints of a step no later than {@code bound}. */
  public Optional<CompletedCheckpoint> newestValidAtMost(long bound) {
    if (!Files.isDirectory(checkpoints())) {
      return Optional.empty();
    }
    return reader().newestValidAtMost(bound);
  }

  /**
   * The step a run in this directory starts at: 0 for a new run, the newest valid checkpoint's step
   * when resuming.
   *
   * @throws InvalidInputException when the directory holds a run and {@code resume} is not set
   */
  public long startStep(boolean resume) {
    Optional<CompletedCheckpoint> newest = newestValid();
    if (newest.isEmpty()) {
      return 0;
    }
    refuseUnlessResuming(newest.get().step(), resume);
    return newest.get().step();
  }

  /** The refusal of a run over an existing one, with the way out in the message. */
  public void refuseUnlessResuming(long newestStep, boolean resume) {
    if (!resume) {
      throw new InvalidInputException(
          dir
              + " already holds a run (newest checkpoint: step "
              + newestStep
              + "); pass --resume to continue it, or choose another --out");
    }
  }

  /**
   * Checks that {@code config} trains the same thing as the run that wrote {@code checkpoint}.
   *
   * @param batchMayDiffer the caller's word that the global batch may differ from the checkpoint's
   *     by design (a distributed run under {@code elastic-batch = scale}, see {@link
   *     ElasticBatch}); the directory itself knows nothing of clusters
   * @throws InvalidInputException naming the first key that differs
   */
  public static void checkCompatible(
      Config config, LoadedCheckpoint checkpoint, boolean batchMayDiffer) {
    Config stored;
    try {
      stored = ConfigFactory.parseString(checkpoint.manifest().config());
    } catch (ConfigException e) {
      throw new InvalidInputException(
          "checkpoint "
              + checkpoint.directory()
              + " holds an unreadable config: "
              + e.getMessage());
    }
    for (String path : MUST_MATCH) {
      if (batchMayDiffer && path.equals(TrainSettings.BATCH_SIZE)) {
        continue;
      }
      String was = stored.hasPath(path) ? render(stored.getValue(path)) : "(absent)";
      String now = config.hasPath(path) ? render(config.getValue(path)) : "(absent)";
      if (!was.equals(now)) {
        throw new InvalidInputException(
            "cannot resume: "
                + path
                + " was "
                + was
                + " in the checkpoint at step "
                + checkpoint.step()
                + " but is "
                + now
                + " now");
      }
    }
  }

  /** The {@code scoreflow} subtree of {@code config} as HOCON, as checkpoints record it. */
  public static String render(Config config) {
    return config
        .root()
        .withOnlyKey("scoreflow")
        .render(ConfigRenderOptions.concise().setFormatted(true));
  }

  /** Writes {@code config.conf} atomically (the run's config, readable by a person). */
  public void writeConfig(Config config) {
    Path target = dir.resolve(CONFIG);
    try {
      Files.createDirectories(dir);
      Path tmp = dir.resolve(".config.conf.tmp");
      Files.writeString(tmp, render(config), StandardCharsets.UTF_8);
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + target, e);
    }
  }

  private static String render(ConfigValue v) {
    return v.render(ConfigRenderOptions.concise());
  }
}
