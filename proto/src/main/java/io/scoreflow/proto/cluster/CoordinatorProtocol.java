package io.scoreflow.proto.cluster;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * What a worker tells the coordinator of its job. The coordinator actor handles these and, beside
 * them, signals of its own (timers, cluster events) that never cross a process boundary.
 *
 * <p>Every message about a job carries the job name and the generation, so the coordinator can
 * refuse one from a ring it already dissolved.
 */
public final class CoordinatorProtocol {

  /** How workers find the coordinator through the cluster receptionist. */
  public static final ServiceKey<Command> SERVICE_KEY =
      ServiceKey.create(Command.class, "scoreflow-coordinator");

  private CoordinatorProtocol() {}

  /** A message from a worker to the coordinator. */
  public sealed interface Command extends CborSerializable
      permits Register, StepReport, RankDone, RankFailed, Stopped {}

  /**
   * A worker offers itself: its id (the rank order), its exchange server, its device.
   *
   * @param certificate the worker's certificate (DER), empty from a plaintext worker
   * @param signature the worker's signature over {@link #statement} of the other fields: mutual TLS
   *     only shows that the message came from some node of the job, this shows which one, so that
   *     no admitted node can register under another's id
   */
  public record Register(
      String workerId,
      String host,
      int exchangePort,
      String device,
      ActorRef<WorkerProtocol.Command> worker,
      byte[] certificate,
      byte[] signature)
      implements Command {

    /** An unsigned registration, as a plaintext ({@code --insecure}) worker sends it. */
    public Register(
        String workerId,
        String host,
        int exchangePort,
        String device,
        ActorRef<WorkerProtocol.Command> worker) {
      this(workerId, host, exchangePort, device, worker, new byte[0], new byte[0]);
    }

    public Register {
      Fields.text(workerId, "workerId", Fields.NAME);
      Fields.text(host, "host", Fields.NAME);
      Fields.port(exchangePort, "exchangePort");
      Fields.text(device, "device", Fields.NAME);
      Fields.present(worker, "worker");
      certificate = Fields.bytes(certificate, "certificate", 64 << 10);
      signature = Fields.bytes(signature, "signature", 1 << 10);
    }

    // Arrays compare by content: a registration that crossed the wire equals the one sent.
    @Override
    public boolean equals(Object o) {
      return o instanceof Register r
          && workerId.equals(r.workerId)
          && host.equals(r.host)
          && exchangePort == r.exchangePort
          && device.equals(r.device)
          && java.util.Objects.equals(worker, r.worker)
          && java.util.Arrays.equals(certificate, r.certificate)
          && java.util.Arrays.equals(signature, r.signature);
    }

    @Override
    public int hashCode() {
      return java.util.Objects.hash(workerId, host, exchangePort, device, worker)
          + 31 * java.util.Arrays.hashCode(signature);
    }

    @Override
    public String toString() {
      return "Register["
          + workerId
          + " at "
          + host
          + ":"
          + exchangePort
          + ", "
          + device
          + ", "
          + worker
          + (signature.length > 0 ? ", signed" : ", unsigned")
          + "]";
    }

    /** What a worker signs: every claim of its registration. */
    public static String statement(String workerId, String host, int exchangePort, String device) {
      return String.join("\n", "scoreflow register v1", workerId, host, "" + exchangePort, device);
    }
  }

  /**
   * Rank {@code rank} completed {@code step}.
   *
   * @param loss the rank's mean loss over its shard
   * @param samples the rank's shard size
   * @param checksum the parameters after the step (CRC-32C, hex); empty after a step that does not
   *     synchronise the replicas (local SGD), which every rank then reports empty
   * @param parameterSum the sum of the parameters, to make a mismatch readable
   */
  public record StepReport(
      String job,
      long generation,
      int rank,
      long step,
      double loss,
      int samples,
      long computeNanos,
      long exchangeNanos,
      long optimizerNanos,
      String checksum,
      double parameterSum)
      implements Command {
    public StepReport {
      Fields.text(job, "job", Fields.NAME);
      Fields.text(checksum, "checksum", Fields.NAME);
    }
  }

  /** Rank {@code rank} reached {@code step} steps done and its checkpoints are written. */
  public record RankDone(String job, long generation, int rank, long step) implements Command {
    public RankDone {
      Fields.text(job, "job", Fields.NAME);
    }
  }

  /**
   * Rank {@code rank}'s training failed before {@code step}.
   *
   * @param inExchange the gradient exchange failed (a peer gone, stalled or refusing): a new ring
   *     can get past it; any other failure (bad data, a full disk, diverged training) fails the job
   */
  public record RankFailed(
      String job, long generation, int rank, long step, String reason, boolean inExchange)
      implements Command {
    public RankFailed {
      Fields.text(job, "job", Fields.NAME);
      reason = Fields.reason(reason);
    }
  }

  /**
   * The worker {@code workerId} obeyed the {@link WorkerProtocol.Abort} of {@code generation}: its
   * training thread ended, its checkpoints are written.
   */
  public record Stopped(String job, long generation, String workerId) implements Command {
    public Stopped {
      Fields.text(job, "job", Fields.NAME);
      Fields.text(workerId, "workerId", Fields.NAME);
    }
  }
}
