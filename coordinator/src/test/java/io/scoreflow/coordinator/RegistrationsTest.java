package io.scoreflow.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoreflow.proto.cluster.CoordinatorProtocol;
import io.scoreflow.proto.cluster.WorkerProtocol;
import io.scoreflow.security.JobCa;
import io.scoreflow.security.NodeIdentity;
import io.scoreflow.security.NodeProof;
import io.scoreflow.security.TlsMaterial;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Predicate;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Admission: what a registration is, against the workers registered so far. */
class RegistrationsTest {

  private static final ActorTestKit KIT = ActorTestKit.create("RegistrationsTest");

  @AfterAll
  static void shutdown() {
    KIT.shutdownTestKit();
  }

  /** No earlier incarnation is alive. */
  private static final Predicate<CoordinatorProtocol.Register> DEAD = r -> false;

  private static CoordinatorProtocol.Register register(
      String id, ActorRef<WorkerProtocol.Command> worker) {
    return new CoordinatorProtocol.Register(id, "127.0.0.1", 7000, "cpu", worker);
  }

  @Test
  void aNewIdJoinsWhileThereArePlacesAndIsRefusedOnceTheyAreTaken() {
    Registrations registered = new Registrations(Optional.empty());
    var a = register("worker-000", KIT.<WorkerProtocol.Command>createTestProbe().ref());
    assertInstanceOf(Registrations.Joining.class, registered.admit(a, 1, DEAD));
    registered.put(a);
    var b = register("worker-001", KIT.<WorkerProtocol.Command>createTestProbe().ref());
    assertInstanceOf(Registrations.Full.class, registered.admit(b, 1, DEAD));
    assertInstanceOf(Registrations.Joining.class, registered.admit(b, 2, DEAD));
  }

  @Test
  void theSameActorAgainIsConfirmedAndAnotherUnderItsIdReplacesIt() {
    Registrations registered = new Registrations(Optional.empty());
    ActorRef<WorkerProtocol.Command> first = KIT.<WorkerProtocol.Command>createTestProbe().ref();
    var a = register("worker-000", first);
    registered.put(a);
    // Even with every place taken: the same worker, or a new incarnation of it, is no newcomer.
    assertInstanceOf(
        Registrations.Again.class, registered.admit(register("worker-000", first), 1, DEAD));
    var restarted =
        registered.admit(
            register("worker-000", KIT.<WorkerProtocol.Command>createTestProbe().ref()), 1, DEAD);
    assertEquals(a, assertInstanceOf(Registrations.Restarted.class, restarted).earlier());
  }

  @Test
  void anotherProcessUnderALiveWorkersIdDoesNotDisplaceIt() {
    Registrations registered = new Registrations(Optional.empty());
    var live = register("worker-000", KIT.<WorkerProtocol.Command>createTestProbe().ref());
    registered.put(live);
    var duplicate = register("worker-000", KIT.<WorkerProtocol.Command>createTestProbe().ref());
    var admission = registered.admit(duplicate, 2, r -> r == live);
    assertEquals(live, assertInstanceOf(Registrations.Occupied.class, admission).earlier());
    assertEquals(live, registered.get("worker-000").orElseThrow());
  }

  private static CoordinatorProtocol.Register signed(
      String id, TlsMaterial signer, ActorRef<WorkerProtocol.Command> worker) {
    NodeProof proof =
        NodeProof.sign(
            signer, CoordinatorProtocol.Register.statement(id, "127.0.0.1", 7000, "cpu"));
    return new CoordinatorProtocol.Register(
        id, "127.0.0.1", 7000, "cpu", worker, proof.certificate(), proof.signature());
  }

  @Test
  void overTlsOnlyTheCertificateOfAnIdRegistersUnderIt() {
    JobCa job = JobCa.create("job", Duration.ofDays(1));
    JobCa stranger = JobCa.create("other", Duration.ofDays(1));
    Registrations registered = new Registrations(Optional.of(job.certificate()));
    ActorRef<WorkerProtocol.Command> ref = KIT.<WorkerProtocol.Command>createTestProbe().ref();
    TlsMaterial w0 = TlsMaterial.issue(job, NodeIdentity.worker("worker-000"));
    TlsMaterial w1 = TlsMaterial.issue(job, NodeIdentity.worker("worker-001"));

    assertInstanceOf(
        Registrations.Joining.class, registered.admit(signed("worker-000", w0, ref), 2, DEAD));
    var asAnother = registered.admit(signed("worker-000", w1, ref), 2, DEAD);
    assertTrue(
        assertInstanceOf(Registrations.Refused.class, asAnother)
            .reason()
            .contains("signed by worker worker-001"),
        asAnother.toString());
    var foreign =
        registered.admit(
            signed(
                "worker-000", TlsMaterial.issue(stranger, NodeIdentity.worker("worker-000")), ref),
            2,
            DEAD);
    assertTrue(
        assertInstanceOf(Registrations.Refused.class, foreign).reason().contains("not signed by"),
        foreign.toString());
    var unsigned = registered.admit(register("worker-000", ref), 2, DEAD);
    assertInstanceOf(Registrations.Refused.class, unsigned);
    // A claim changed after signing (another exchange port) does not verify.
    var good = signed("worker-000", w0, ref);
    var tampered =
        new CoordinatorProtocol.Register(
            "worker-000", "127.0.0.1", 7999, "cpu", ref, good.certificate(), good.signature());
    assertTrue(
        assertInstanceOf(Registrations.Refused.class, registered.admit(tampered, 2, DEAD))
            .reason()
            .contains("signature does not match"));
  }
}
