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

  /** A worker offers itself: its id (the rank order), its exchange server, its device. */
  public record Register(
      String workerId,
      String host,
      int exchangePort,
      String device,
      ActorRef<WorkerProtocol.Command> worker)
      implements Command {}

  /**
   * Rank {@code rank} completed {@code step}.
   *
   * @param loss the rank's mean loss over its shard
   * @param samples the rank's shard size
   * @param checksum the parameters after the step (CRC-32C, hex)
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
      implements Command {}

  /** Rank {@code rank} reached {@code step} steps done and its checkpoints are written. */
  public record RankDone(String job, long generation, int rank, long step) implements Command {}

  /**
   * Rank {@code rank}'s training failed before {@code step}.
   *
   * @param inExchange the gradient exchange failed (a peer gone, stalled or refusing): a new ring
   *     can get past it; any other failure (bad data, a full disk, diverged training) fails the job
   */
  public record RankFailed(
      String job, long generation, int rank, long step, String reason, boolean inExchange)
      implements Command {}

  /**
   * The worker {@code workerId} obeyed the {@link WorkerProtocol.Abort} of {@code generation}: its
   * training thread ended, its checkpoints are written.
   */
  public record Stopped(String job, long generation, String workerId) implements Command {}
}
