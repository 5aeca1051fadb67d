package io.scoreflow.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.scoreflow.proto.cluster.ClusterNodes;
import io.scoreflow.proto.cluster.CoordinatorProtocol;
import io.scoreflow.proto.cluster.RingMember;
import io.scoreflow.proto.cluster.WorkerProtocol;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.SerializationTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Every message between nodes goes through Jackson CBOR and comes back equal. */
class SerializationTest {

  private static final ActorTestKit KIT =
      ActorTestKit.create(
          "SerializationTest", ClusterNodes.node("127.0.0.1", 0, null, "coordinator"));

  @AfterAll
  static void shutdown() {
    KIT.shutdownTestKit();
  }

  @Test
  void everyRemoteMessageRoundTripsThroughJacksonCbor() {
    SerializationTestKit serialization = new SerializationTestKit(KIT.system());
    TestProbe<WorkerProtocol.Command> worker = KIT.createTestProbe();
    TestProbe<CoordinatorProtocol.Command> coordinator = KIT.createTestProbe();
    List<RingMember> ring =
        List.of(
            new RingMember(0, "worker-000", "127.0.0.1", 7000, "cpu"),
            new RingMember(1, "worker-001", "127.0.0.1", 7001, "gpu"));
    List<Object> messages =
        List.of(
            new CoordinatorProtocol.Register("worker-000", "127.0.0.1", 7000, "cpu", worker.ref()),
            new CoordinatorProtocol.StepReport(
                "job", 3, 1, 17, 0.25, 16, 10, 20, 30, "deadbeef", -1.5),
            new CoordinatorProtocol.RankDone("job", 3, 1, 100),
            new CoordinatorProtocol.RankFailed("job", 3, 1, 17, "out of memory", false),
            new CoordinatorProtocol.Stopped("job", 4, "worker-001"),
            new WorkerProtocol.Abort("job", 4, "worker-002 lost"),
            new WorkerProtocol.Registered("job", "worker-000", coordinator.ref()),
            new WorkerProtocol.RegistrationRefused("worker-000", "full"),
            new WorkerProtocol.StartJob("job", 3, 1, ring, 40, 100, 12, "scoreflow { }", "/runs/a"),
            new WorkerProtocol.Release("job", 3, false, "worker lost"));
    Serialization ext = SerializationExtension.get(KIT.system().classicSystem());
    for (Object m : messages) {
      assertEquals(m, serialization.verifySerialization(m, false));
      assertEquals(
          "JacksonCborSerializer",
          ext.findSerializerFor(m).getClass().getSimpleName(),
          m.getClass() + " serializer");
    }
  }
}
