package io.scoreflow.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoreflow.proto.cluster.CoordinatorProtocol;
import io.scoreflow.proto.cluster.WorkerProtocol;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.Random;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;
import org.junit.jupiter.api.Test;

/**
 * The coordinator fed what a broken or hostile node of the cluster sends while a job trains: the
 * CBOR of real messages with bytes flipped, cut or inserted (decoded by Pekko's own serializer, as
 * a message from another node would be), messages with missing fields, and well-formed messages for
 * ranks, jobs and generations that are not the ring's. None may crash the coordinator, fail the job
 * or count as progress: afterwards the real ring's next step is agreed as if nothing came.
 */
class CoordinatorFuzzTest extends CoordinatorFixture {

  private static final int MUTANTS = 400;

  @Test
  void malformedForeignAndStaleMessagesLeaveTheJobUnharmed() {
    TestProbe<JobEvent> events = kit.createTestProbe();
    ActorRef<CoordinatorProtocol.Command> c =
        kit.spawn(Coordinator.create(spec(2, 2), OptionalLong::empty, events.ref()));
    List<Worker> pair = trainingPair(c, events);
    TestProbe<WorkerProtocol.Command> stranger = kit.createTestProbe();

    // Well-formed, but not of this ring: no member sends these.
    c.tell(report(1, 7, 1, 1.0, "ff"));
    c.tell(report(1, -1, 1, 1.0, "ff"));
    c.tell(new CoordinatorProtocol.RankDone("job-a", 1, 5, 100));
    c.tell(new CoordinatorProtocol.RankDone("job-a", 1, -3, 100));
    c.tell(new CoordinatorProtocol.RankFailed("job-a", 1, 9, 1, "boom", false));
    c.tell(new CoordinatorProtocol.RankFailed("job-a", 1, -1, 1, "boom", true));
    c.tell(new CoordinatorProtocol.RankFailed("job-z", 1, 0, 1, "boom", false));
    c.tell(new CoordinatorProtocol.RankFailed("job-a", 0, 0, 1, "boom", false));
    c.tell(new CoordinatorProtocol.Stopped("job-a", 99, "worker-000"));
    c.tell(
        new CoordinatorProtocol.Register("worker-777", "127.0.0.1", 7007, "cpu", stranger.ref()));
    stranger.expectMessageClass(WorkerProtocol.RegistrationRefused.class, WAIT);

    // Missing fields never make a message: Jackson gets the same refusal from the constructor.
    assertThrows(
        IllegalArgumentException.class,
        () -> new CoordinatorProtocol.Register(null, "h", 1, "cpu", stranger.ref()));
    assertThrows(
        IllegalArgumentException.class,
        () -> new CoordinatorProtocol.Register("w", "h", 1, "cpu", null));
    assertThrows(
        IllegalArgumentException.class,
        () -> new CoordinatorProtocol.Register("w".repeat(300), "h", 1, "cpu", stranger.ref()));
    // A reason is only shown: a megabyte of it is cut, not refused, so the report still counts.
    assertTrue(
        new CoordinatorProtocol.RankFailed("job-a", 1, 0, 1, "x".repeat(1 << 20), false)
                .reason()
                .length()
            < 17 << 10);

    // Mutants of real messages of a foreign job, through the serializer of the wire.
    Serialization serialization = SerializationExtension.get(kit.system().classicSystem());
    List<CoordinatorProtocol.Command> templates =
        List.of(
            new CoordinatorProtocol.Register(
                "worker-900", "127.0.0.1", 7000, "cpu", stranger.ref()),
            new CoordinatorProtocol.StepReport(
                "job-z", 1, 1, 1, 0.25, 6, 10, 20, 30, "deadbeef", -1.5),
            new CoordinatorProtocol.RankDone("job-z", 1, 1, 100),
            new CoordinatorProtocol.RankFailed("job-z", 1, 1, 1, "out of memory", false),
            new CoordinatorProtocol.Stopped("job-z", 1, "worker-001"));
    Random random = new Random(20261207);
    int decoded = 0;
    int refused = 0;
    for (int i = 0; i < MUTANTS; i++) {
      CoordinatorProtocol.Command template = templates.get(i % templates.size());
      Serializer serializer = serialization.findSerializerFor(template);
      String manifest = Serializers.manifestFor(serializer, template);
      // serialize/deserialize (not the serializer's own toBinary) because they set the transport
      // information an ActorRef field needs, as the remoting layer does.
      byte[] bytes = mutate(serialization.serialize(template).get(), random);
      Object message;
      try {
        message = serialization.deserialize(bytes, serializer.identifier(), manifest).get();
      } catch (Exception | Error e) {
        // What Pekko does with an undecodable frame: log and drop it.
        assertTrue(!(e instanceof OutOfMemoryError), "a mutant made the decoder run out of memory");
        refused++;
        continue;
      }
      decoded++;
      c.tell((CoordinatorProtocol.Command) message);
    }
    assertEquals(MUTANTS, decoded + refused);
    assertTrue(refused > 0 && decoded > 0, decoded + " decoded, " + refused + " refused");

    // The real ring goes on: its next step is agreed, nothing else happened to the job.
    c.tell(report(1, 0, 1, 1.0, "01"));
    c.tell(report(1, 1, 1, 1.0, "01"));
    JobEvent.StepProgress p = events.expectMessageClass(JobEvent.StepProgress.class, WAIT);
    assertEquals(1, p.step());
    events.expectNoMessage(Duration.ofMillis(200));
    for (Worker w : pair) {
      w.probe().expectNoMessage(Duration.ofMillis(50));
    }
  }

  /** One to four random edits: flip a byte, cut the tail, insert a byte, or set a byte to 0xff. */
  private static byte[] mutate(byte[] in, Random random) {
    byte[] b = in.clone();
    int edits = 1 + random.nextInt(4);
    for (int e = 0; e < edits && b.length > 0; e++) {
      int at = random.nextInt(b.length);
      switch (random.nextInt(4)) {
        case 0 -> b[at] ^= (byte) (1 + random.nextInt(255));
        case 1 -> b = java.util.Arrays.copyOf(b, at);
        case 2 -> {
          byte[] longer = new byte[b.length + 1];
          System.arraycopy(b, 0, longer, 0, at);
          longer[at] = (byte) random.nextInt(256);
          System.arraycopy(b, at, longer, at + 1, b.length - at);
          b = longer;
        }
        default -> b[at] = (byte) 0xff;
      }
    }
    return b;
  }
}
