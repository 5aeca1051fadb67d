package io.scoreflow.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.scoreflow.proto.cluster.CoordinatorProtocol;
import io.scoreflow.proto.cluster.WorkerProtocol;
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

  private static CoordinatorProtocol.Register register(
      String id, ActorRef<WorkerProtocol.Command> worker) {
    return new CoordinatorProtocol.Register(id, "127.0.0.1", 7000, "cpu", worker);
  }

  @Test
  void aNewIdJoinsWhileThereArePlacesAndIsRefusedOnceTheyAreTaken() {
    Registrations registered = new Registrations();
    var a = register("worker-000", KIT.<WorkerProtocol.Command>createTestProbe().ref());
    assertInstanceOf(Registrations.Joining.class, registered.admit(a, 1));
    registered.put(a);
    var b = register("worker-001", KIT.<WorkerProtocol.Command>createTestProbe().ref());
    assertInstanceOf(Registrations.Full.class, registered.admit(b, 1));
    assertInstanceOf(Registrations.Joining.class, registered.admit(b, 2));
  }

  @Test
  void theSameActorAgainIsConfirmedAndAnotherUnderItsIdReplacesIt() {
    Registrations registered = new Registrations();
    ActorRef<WorkerProtocol.Command> first = KIT.<WorkerProtocol.Command>createTestProbe().ref();
    var a = register("worker-000", first);
    registered.put(a);
    // Even with every place taken: the same worker, or a new incarnation of it, is no newcomer.
    assertInstanceOf(Registrations.Again.class, registered.admit(register("worker-000", first), 1));
    var restarted =
        registered.admit(
            register("worker-000", KIT.<WorkerProtocol.Command>createTestProbe().ref()), 1);
    assertEquals(a, assertInstanceOf(Registrations.Restarted.class, restarted).earlier());
  }
}
