package io.scoreflow.run;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import io.scoreflow.InvalidInputException;
import io.scoreflow.ckpt.CheckpointLayout;
import io.scoreflow.ckpt.CheckpointReader;
import io.scoreflow.ckpt.CheckpointSearch;
import io.scoreflow.ckpt.CheckpointStore;
import io.scoreflow.ckpt.CompletedCheckpoint;
import io.scoreflow.ckpt.LoadedCheckpoint;
import io.scoreflow.ckpt.VerifiedCheckpoint;
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
 * <p>The rules ({@link #checkStart}): a directory that already holds a checkpoint is only continued
 * when asked to resume, from the newest checkpoint that verifies completely; a directory whose
 * checkpoints all fail verification is never started over unless asked to restart from scratch, and
 * then its checkpoints are set aside, not overwritten; a checkpoint is only continued by a config
 * that trains the same thing.
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

  /** The newest checkpoint that verifies completely, if any (tensors not kept). */
  public Optional<CompletedCheckpoint> newestValid() {
    return newestValidAtMost(Long.MAX_VALUE);
  }

  /** As {@link #newestValid()}, among the checkpoints of a step no later than {@code bound}. */
  public Optional<CompletedCheckpoint> newestValidAtMost(long bound) {
    return reader().searchAtMost(bound).found();
  }

  /**
   * Applies the rules of a run directory to what a search of its checkpoints found, before the run
   * writes anything, so that a refusal leaves the directory exactly as it was:
   *
   * <ul>
   *   <li>no checkpoint: a new run (also with {@code --resume}: there is nothing to continue);
   *   <li>a checkpoint verifies: continued only with {@code resume}, from it;
   *   <li>checkpoints, none of which verifies: refused (resuming or not) unless {@code
   *       restartFromScratch}, and then the caller sets them aside with {@link #setAside} and
   *       starts at step 0. {@code restartFromScratch} never discards a checkpoint that verifies.
   * </ul>
   *
   * @return {@code search}, for the caller to act on
   * @throws InvalidInputException the refusal, naming the directory, the checkpoints and the way
   *     out
   */
  public <T extends VerifiedCheckpoint> CheckpointSearch<T> checkStart(
      CheckpointSearch<T> search, boolean resume, boolean restartFromScratch) {
    if (search instanceof CheckpointSearch.Found<T> found && !resume) {
      throw new InvalidInputException(
          dir
              + " already holds a run (newest checkpoint that verifies: step "
              + found.checkpoint().step()
              + ")"
              + (restartFromScratch
                  ? " and --restart-from-scratch only sets aside checkpoints that all fail"
                      + " verification"
                  : "")
              + "; pass --resume to continue it, or choose another --out");
    }
    if (search instanceof CheckpointSearch.NoneVerifies<T> failed && !restartFromScratch) {
      throw new InvalidInputException(
          (resume ? "cannot resume " + dir + ": " : dir + " already holds a run, but ")
              + failures(failed)
              + "; nothing was changed: pass --restart-from-scratch to move "
              + (failed.skipped().size() == 1 ? "it" : "them")
              + " into "
              + checkpoints().resolve(CheckpointLayout.CORRUPT_PREFIX + "<time>")
              + "/ and start again at step 0, or choose another --out");
    }
    return search;
  }

  /**
   * Sets aside checkpoints that {@link #checkStart} let a run start over: moved, never deleted.
   *
   * @return the warning to show, naming where they went
   */
  public String setAside(CheckpointStore store, CheckpointSearch.NoneVerifies<?> failed) {
    Path folder = store.setAsideUnverifiable(failed);
    return dir
        + ": "
        + failures(failed)
        + "; moved "
        + (failed.skipped().size() == 1 ? "it" : "them")
        + " into "
        + folder
        + "/ and starting again at step 0";
  }

  /**
   * "none of its 3 checkpoints verifies (newest: step 6 (reason: detail))", or for a single one
   * "its only checkpoint fails verification (step 6 (reason: detail))".
   */
  public static String failures(CheckpointSearch.NoneVerifies<?> failed) {
    int n = failed.skipped().size();
    return n == 1
        ? "its only checkpoint fails verification (" + failed.newest().describe() + ")"
        : "none of its " + n + " checkpoints verifies (newest: " + failed.newest().describe() + ")";
  }

  /**
   * The warning for a run that continues from an older checkpoint than its newest one, if it does.
   */
  public static Optional<String> fallbackWarning(CheckpointSearch<?> search) {
    if (!(search instanceof CheckpointSearch.Found<?> found) || found.skipped().isEmpty()) {
      return Optional.empty();
    }
    StringBuilder why = new StringBuilder();
    for (CheckpointSearch.Skipped skipped : found.skipped()) {
      why.append(why.isEmpty() ? "" : ", ").append(skipped.describe());
    }
    return Optional.of(
        "using checkpoint step "
            + found.checkpoint().step()
            + ", the newest that verifies; skipped "
            + why);
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
