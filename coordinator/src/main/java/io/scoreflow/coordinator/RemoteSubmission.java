package io.scoreflow.coordinator;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.scoreflow.InvalidInputException;
import io.scoreflow.proto.cluster.PoolProtocol;
import io.scoreflow.run.RunDirectory;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Map;

/**
 * A job a sweep sent from elsewhere ({@link PoolProtocol.SubmitJob}), made into what the pool runs:
 * its config parsed and checked as a worker would, its run directory found on this machine (the
 * shared file system), its first generation after those its journal records, its checkpoints
 * catalogued. Anything wrong is an {@link InvalidInputException} naming it, which the pool sends
 * back as the refusal.
 */
final class RemoteSubmission {

  private RemoteSubmission() {}

  /** The step {@code m}'s run finished at by its journal, if it did (and the journal is there). */
  static java.util.OptionalLong finishedStep(PoolProtocol.SubmitJob m) {
    try {
      return JobJournal.finishedStep(Path.of(m.runDirectory()));
    } catch (InvalidPathException | java.io.UncheckedIOException e) {
      return java.util.OptionalLong.empty();
    }
  }

  static WorkerPool.Submit of(PoolProtocol.SubmitJob m) {
    Path dir;
    try {
      dir = Path.of(m.runDirectory());
    } catch (InvalidPathException e) {
      throw new InvalidInputException("run directory '" + m.runDirectory() + "' is no path");
    }
    if (!dir.isAbsolute() || !Files.isDirectory(dir)) {
      throw new InvalidInputException(
          "run directory "
              + dir
              + " is not a directory on the pool's machine: the sweep's --out must be on a file"
              + " system the pool, its workers and the sweep share, given as the same absolute"
              + " path");
    }
    Config resolved;
    try {
      resolved =
          ConfigFactory.parseString(m.config())
              .withFallback(ConfigFactory.defaultReference())
              .resolve();
    } catch (ConfigException e) {
      throw new InvalidInputException("job " + m.job() + ": its config: " + e.getMessage(), e);
    }
    if (!resolved.hasPath("scoreflow.job.name")
        || !resolved.getString("scoreflow.job.name").equals(m.job())) {
      throw new InvalidInputException(
          "job " + m.job() + ": its config names another job (scoreflow.job.name)");
    }
    JobSpec spec;
    try {
      spec =
          JobSpec.of(resolved, dir, m.untilStep(), m.workers(), 0)
              .startingAtGeneration(JobJournal.lastGeneration(dir) + 1);
    } catch (ConfigException e) {
      throw new InvalidInputException("job " + m.job() + ": " + e.getMessage(), e);
    }
    return new WorkerPool.Submit(
        spec, CheckpointCatalog.of(new RunDirectory(dir)), m.priority(), Map.of());
  }
}
