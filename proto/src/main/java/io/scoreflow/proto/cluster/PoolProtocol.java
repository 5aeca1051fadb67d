package io.scoreflow.proto.cluster;

import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What a sweep running elsewhere ({@code scoreflow sweep SPEC --coordinator HOST:PORT}) tells a
 * running worker pool ({@code scoreflow pool}), and what the pool tells it back. The sweep is not a
 * member of the cluster: it sends to the pool's actor by its path, and the pool answers the sweep's
 * follower actor.
 *
 * <p>Over mutual TLS every request that changes the queue is signed ({@code certificate}, {@code
 * signature} over its {@code statement}): TLS only shows that some node of the CA sent it, the
 * signature that it was the holder of the coordinator's certificate, the CA's operator identity.
 */
public final class PoolProtocol {

  /** The pool actor's name under the guardian of the pool's node. */
  public static final String ACTOR = "pool";

  private PoolProtocol() {}

  /** Where the pool listening on {@code host}:{@code port} is. */
  public static String path(String host, int port) {
    return ClusterNodes.pekkoAddress(host, port) + "/user/" + ACTOR;
  }

  /** A request to the pool. */
  public sealed interface Command extends CborSerializable permits SubmitJob, CancelJob, Status {}

  /**
   * Run the job {@code job}: its resolved config (as a worker gets it in {@link
   * WorkerProtocol.StartJob}), its run directory (on a file system the pool, its workers and the
   * sweep share), until {@code untilStep} steps, on {@code workers} workers. A job of that name
   * already queued or running is not submitted again: {@code replyTo} then follows it.
   */
  public record SubmitJob(
      String job,
      String config,
      String runDirectory,
      long untilStep,
      int workers,
      int priority,
      byte[] certificate,
      byte[] signature,
      ActorRef<Update> replyTo)
      implements Command {

    public SubmitJob {
      Fields.text(job, "job", Fields.NAME);
      Fields.text(config, "config", WorkerProtocol.StartJob.MAX_CONFIG_CHARS);
      Fields.text(runDirectory, "runDirectory", Fields.PATH);
      if (untilStep < 0 || workers < 1) {
        throw new IllegalArgumentException(
            "untilStep " + untilStep + " and workers " + workers + " must be >= 0 and >= 1");
      }
      certificate = Fields.bytes(certificate, "certificate", 64 << 10);
      signature = Fields.bytes(signature, "signature", 1 << 10);
      Fields.present(replyTo, "replyTo");
    }

    /** What the sender signs: every claim of the request. */
    public static String statement(
        String job, String config, String runDirectory, long untilStep, int workers, int priority) {
      return String.join(
          "\n",
          "scoreflow submit v1",
          job,
          runDirectory,
          Long.toString(untilStep),
          Integer.toString(workers),
          Integer.toString(priority),
          config);
    }

    @Override
    public String toString() {
      return "SubmitJob[" + job + " into " + runDirectory + ", " + workers + " workers]";
    }
  }

  /** Cancel {@code job}: a queued one never starts, a running one fails as cancelled. */
  public record CancelJob(
      String job, String reason, byte[] certificate, byte[] signature, ActorRef<Update> replyTo)
      implements Command {

    public CancelJob {
      Fields.text(job, "job", Fields.NAME);
      reason = Fields.reason(reason);
      certificate = Fields.bytes(certificate, "certificate", 64 << 10);
      signature = Fields.bytes(signature, "signature", 1 << 10);
      Fields.present(replyTo, "replyTo");
    }

    public static String statement(String job, String reason) {
      return String.join("\n", "scoreflow cancel v1", job, reason);
    }

    @Override
    public String toString() {
      return "CancelJob[" + job + ": " + reason + "]";
    }
  }

  /** What the pool holds now; answered with {@link PoolState}. Also how a sweep sees it is up. */
  public record Status(ActorRef<Update> replyTo) implements Command {
    public Status {
      Fields.present(replyTo, "replyTo");
    }
  }

  /** What the pool tells a sweep. */
  public sealed interface Update extends CborSerializable
      permits Accepted, Refused, Started, Stepped, Regrouped, Finished, Failed, PoolState {}

  /** The request about {@code job} is taken; {@code following}: the job was already there. */
  public record Accepted(String job, boolean following) implements Update {
    public Accepted {
      Fields.text(job, "job", Fields.NAME);
    }
  }

  /** The request about {@code job} is refused, for {@code reason}; nothing changed. */
  public record Refused(String job, String reason) implements Update {
    public Refused {
      Fields.text(job, "job", Fields.NAME);
      reason = Fields.reason(reason);
    }
  }

  /** A ring of {@code ringSize} workers trains {@code job} from {@code startStep}. */
  public record Started(String job, long generation, int ringSize, long startStep)
      implements Update {
    public Started {
      Fields.text(job, "job", Fields.NAME);
    }
  }

  /** {@code job} completed {@code step} (sent at most about once a second per job). */
  public record Stepped(String job, long step, double loss) implements Update {
    public Stepped {
      Fields.text(job, "job", Fields.NAME);
    }
  }

  /** {@code job}'s ring dissolved, for {@code why}; it regroups. */
  public record Regrouped(String job, String why) implements Update {
    public Regrouped {
      Fields.text(job, "job", Fields.NAME);
      why = Fields.reason(why);
    }
  }

  /** {@code job} finished at {@code step}. */
  public record Finished(String job, long step) implements Update {
    public Finished {
      Fields.text(job, "job", Fields.NAME);
    }
  }

  /** {@code job} failed: {@code reason} is the failure's kind, {@code message} says what. */
  public record Failed(String job, String reason, String message) implements Update {
    public Failed {
      Fields.text(job, "job", Fields.NAME);
      Fields.text(reason, "reason", Fields.NAME);
      message = Fields.reason(message);
    }
  }

  /** The pool's queue and workers now. */
  public record PoolState(
      String pool, List<String> queued, List<String> running, int idleWorkers, int knownWorkers)
      implements Update {
    public PoolState {
      Fields.text(pool, "pool", Fields.NAME);
      queued = List.copyOf(Fields.present(queued, "queued"));
      running = List.copyOf(Fields.present(running, "running"));
      if (queued.size() > 100_000 || running.size() > 100_000) {
        throw new IllegalArgumentException("implausibly many jobs");
      }
    }
  }
}
