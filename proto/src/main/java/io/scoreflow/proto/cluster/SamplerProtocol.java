package io.scoreflow.proto.cluster;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * What an evaluator asks of a sampler actor. Samplers live on worker nodes (next to a GPU when
 * there is one) and register under {@link #SERVICE_KEY}; the evaluator runs on the coordinator.
 */
public final class SamplerProtocol {

  /** How evaluators find samplers through the cluster receptionist. */
  public static final ServiceKey<Command> SERVICE_KEY =
      ServiceKey.create(Command.class, "scoreflow-sampler");

  private SamplerProtocol() {}

  /** A message to a sampler. */
  public sealed interface Command extends CborSerializable permits SampleCheckpoint {}

  /**
   * Pull checkpoint {@code step} of {@code job} from the checkpoint service at {@code
   * checkpointHost}:{@code checkpointPort}, sample from it as its config's {@code scoreflow.eval}
   * says (sampler, steps K, count, weights), write a PNG grid and an {@code .npz} into {@code
   * sampleStore}, and answer {@code replyTo} with {@link EvaluatorProtocol.SamplesWritten} or
   * {@link EvaluatorProtocol.SamplingFailed}.
   */
  public record SampleCheckpoint(
      String job,
      long step,
      String checkpointHost,
      int checkpointPort,
      String sampleStore,
      ActorRef<EvaluatorProtocol.Command> replyTo)
      implements Command {
    public SampleCheckpoint {
      Fields.text(job, "job", Fields.NAME);
      Fields.text(checkpointHost, "checkpointHost", Fields.NAME);
      Fields.port(checkpointPort, "checkpointPort");
      Fields.text(sampleStore, "sampleStore", Fields.PATH);
      Fields.present(replyTo, "replyTo");
    }
  }
}
