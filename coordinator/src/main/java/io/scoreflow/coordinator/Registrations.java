package io.scoreflow.coordinator;

import io.scoreflow.proto.cluster.CoordinatorProtocol;
import io.scoreflow.proto.cluster.WorkerProtocol;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;

/** The workers registered with a coordinator, by id, and found again by actor or node address. */
final class Registrations {

  private final Map<String, CoordinatorProtocol.Register> byId = new TreeMap<>();

  /** What a registration is, against the workers registered so far. */
  sealed interface Admission permits Again, Full, Joining, Restarted {}

  /** The same worker actor registered again (its confirmation was lost): confirm it again. */
  record Again() implements Admission {}

  /** A new id, and every place the job has is taken: refuse it. */
  record Full() implements Admission {}

  /** A new id with a place: register it. */
  record Joining() implements Admission {}

  /**
   * A new actor under a registered id: a restarted process reuses its id, so the {@code earlier}
   * incarnation is taken for dead even before the cluster notices, and the new one takes its place.
   */
  record Restarted(CoordinatorProtocol.Register earlier) implements Admission {}

  /** What {@code m} is, for a job that wants {@code places} workers. */
  Admission admit(CoordinatorProtocol.Register m, int places) {
    CoordinatorProtocol.Register earlier = byId.get(m.workerId());
    if (earlier != null) {
      return earlier.worker().equals(m.worker()) ? new Again() : new Restarted(earlier);
    }
    return byId.size() >= places ? new Full() : new Joining();
  }

  int size() {
    return byId.size();
  }

  Optional<CoordinatorProtocol.Register> get(String workerId) {
    return Optional.ofNullable(byId.get(workerId));
  }

  /** Adds {@code r}, replacing an earlier registration of the same id. */
  void put(CoordinatorProtocol.Register r) {
    byId.put(r.workerId(), r);
  }

  void remove(String workerId) {
    byId.remove(workerId);
  }

  /** Every registration, in worker-id order. */
  Collection<CoordinatorProtocol.Register> all() {
    return byId.values();
  }

  Optional<CoordinatorProtocol.Register> byRef(ActorRef<WorkerProtocol.Command> ref) {
    return byId.values().stream().filter(r -> r.worker().equals(ref)).findFirst();
  }

  /** The registration of a worker living on the cluster node at {@code address}. */
  Optional<CoordinatorProtocol.Register> byAddress(Address address) {
    return byId.values().stream()
        .filter(r -> r.worker().path().address().equals(address))
        .findFirst();
  }

  /** What ring formation needs of each registration. */
  List<Ring.Candidate> candidates() {
    List<Ring.Candidate> out = new ArrayList<>();
    for (CoordinatorProtocol.Register r : byId.values()) {
      out.add(new Ring.Candidate(r.workerId(), r.host(), r.exchangePort(), r.device()));
    }
    return out;
  }
}
