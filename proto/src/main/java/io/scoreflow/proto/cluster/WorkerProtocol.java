package io.scoreflow.proto.cluster;

import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What a coordinator tells a worker node. It is the contract every worker must accept; a worker's
 * behaviour adapts these into its own protocol.
 *
 * <p>Every message about a job carries the job name and the generation, so a worker can refuse one
 * that belongs to a ring it is no longer part of.
 */
public final class WorkerProtocol {

  private WorkerProtocol() {}

  /** A message from the coordinator to a worker. */
  public sealed interface Command extends CborSerializable
      permits Registered,
          RegistrationRefused,
          RegistrationDeferred,
          Pooled,
          StartJob,
          Abort,
          Release {}

  /** The registration is accepted; wait for {@link StartJob}. */
  public record Registered(
      String job, String workerId, ActorRef<CoordinatorProtocol.Command> coordinator)
      implements Command {
    public Registered {
      Fields.text(job, "job", Fields.NAME);
      Fields.text(workerId, "workerId", Fields.NAME);
      Fields.present(coordinator, "coordinator");
    }
  }

  /** The registration is refused (the ring is formed, the id is taken); the worker should exit. */
  public record RegistrationRefused(String workerId, String reason) implements Command {
    public RegistrationRefused {
      Fields.text(workerId, "workerId", Fields.NAME);
      reason = Fields.reason(reason);
    }
  }

  /**
   * Not yet: the id belongs to a worker that is still alive (another process started with the same
   * id?). The worker keeps registering until its registration deadline; once the earlier
   * incarnation is gone, the coordinator takes it.
   */
  public record RegistrationDeferred(String workerId, String reason) implements Command {
    public RegistrationDeferred {
      Fields.text(workerId, "workerId", Fields.NAME);
      reason = Fields.reason(reason);
    }
  }

  /**
   * The worker is idle in the pool {@code pool} of a coordinator that runs many jobs over one set
   * of workers: it waits, with no deadline, until the coordinator of a job accepts it ({@link
   * Registered} of that job). When a job releases it, it does not exit but registers with {@code
   * coordinator} (the pool) again; only a {@link Release} of the pool itself ends it.
   */
  public record Pooled(
      String pool, String workerId, ActorRef<CoordinatorProtocol.Command> coordinator)
      implements Command {
    public Pooled {
      Fields.text(pool, "pool", Fields.NAME);
      Fields.text(workerId, "workerId", Fields.NAME);
      Fields.present(coordinator, "coordinator");
    }
  }

  /**
   * Start training: be {@code rank} in {@code ring} (rank order) under {@code generation}, from the
   * checkpoint of {@code startStep} ({@code 0}: fresh) until {@code untilStep} steps are done.
   *
   * @param globalBatch the batch of one step over this ring, each rank training {@code globalBatch
   *     / ring.size()} of it. The coordinator decides it for the ring's size (under {@code
   *     elastic-batch = scale} a smaller ring trains a smaller batch than the config's {@code
   *     scoreflow.train.batch-size}), so it travels as a field: the config stays the run's as the
   *     user gave it
   * @param config the run's resolved config, the {@code scoreflow} tree as HOCON
   * @param runDirectory the run directory, on a file system every worker shares
   */
  public record StartJob(
      String job,
      long generation,
      int rank,
      List<RingMember> ring,
      long startStep,
      long untilStep,
      int globalBatch,
      String config,
      String runDirectory)
      implements Command {

    /**
     * The longest config a StartJob carries: 64 Ki characters are at most 192 KiB of UTF-8, inside
     * Artery's 256 KiB frame with the ring beside them (scoreflow-node.conf).
     */
    public static final int MAX_CONFIG_CHARS = 64 << 10;

    public StartJob {
      Fields.text(job, "job", Fields.NAME);
      Fields.text(config, "config", MAX_CONFIG_CHARS);
      Fields.text(runDirectory, "runDirectory", Fields.PATH);
      ring = List.copyOf(Fields.present(ring, "ring"));
      if (ring.isEmpty() || globalBatch < 1 || globalBatch % ring.size() != 0) {
        throw new IllegalArgumentException(
            "a global batch of " + globalBatch + " does not split over a ring of " + ring.size());
      }
    }
  }

  /**
   * The ring of an earlier generation is dissolved (a member was lost, a replacement joins): stop
   * training at once (abort the step in flight, let the checkpoint writer finish), then answer
   * {@link CoordinatorProtocol.Stopped} and wait for the {@link StartJob} of {@code generation}. A
   * worker that is not training answers at once.
   */
  public record Abort(String job, long generation, String reason) implements Command {
    public Abort {
      Fields.text(job, "job", Fields.NAME);
      reason = Fields.reason(reason);
    }
  }

  /**
   * The job is over for this worker (finished, failed, or no place in the ring): stop training if
   * it still runs, leave the cluster and exit; {@code succeeded} decides the exit status.
   */
  public record Release(String job, long generation, boolean succeeded, String reason)
      implements Command {
    public Release {
      Fields.text(job, "job", Fields.NAME);
      reason = Fields.reason(reason);
    }
  }
}
