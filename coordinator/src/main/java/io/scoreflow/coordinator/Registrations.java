package io.scoreflow.coordinator;

import io.scoreflow.proto.cluster.CoordinatorProtocol;
import io.scoreflow.proto.cluster.WorkerProtocol;
import io.scoreflow.security.NodeIdentity;
import io.scoreflow.security.NodeProof;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Predicate;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The workers registered with a coordinator, by id, and found again by actor or node address. Over
 * mutual TLS a registration counts only with a proof ({@link NodeProof}) that its sender holds the
 * certificate of the worker id it claims.
 */
final class Registrations {

  private final Map<String, CoordinatorProtocol.Register> byId = new TreeMap<>();
  private final Optional<X509Certificate> ca;

  /** Registrations checked against the job's CA {@code ca} (empty: plaintext, unchecked). */
  Registrations(Optional<X509Certificate> ca) {
    this.ca = ca;
  }

  /** What a registration is, against the workers registered so far. */
  sealed interface Admission permits Again, Full, Joining, Restarted, Occupied, Refused {}

  /**
   * The id belongs to a worker that is still alive (a member of the cluster that the coordinator
   * can reach): a second process under that id does not displace it. It is told so and may keep
   * trying; once the earlier incarnation is gone (killed and noticed), it is taken.
   */
  record Occupied(CoordinatorProtocol.Register earlier) implements Admission {}

  /** The registration proves no right to its id (no, a foreign or another worker's certificate). */
  record Refused(String reason) implements Admission {}

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

  /**
   * Whether the node of {@code r} is still up and reachable in {@code system}'s cluster: then it is
   * alive, and another process under its id does not displace it.
   */
  static boolean alive(
      org.apache.pekko.actor.typed.ActorSystem<?> system, CoordinatorProtocol.Register r) {
    if (!io.scoreflow.proto.cluster.ClusterNodes.clustered(system)) {
      return false;
    }
    var state = org.apache.pekko.cluster.typed.Cluster.get(system).state();
    Address node = r.worker().path().address();
    boolean unreachable = state.getUnreachable().stream().anyMatch(m -> m.address().equals(node));
    boolean up = false;
    for (var member : state.getMembers()) {
      up |=
          member.address().equals(node)
              && member.status() == org.apache.pekko.cluster.MemberStatus.up();
    }
    return up && !unreachable;
  }

  /**
   * What {@code m} is, for a job that wants {@code places} workers; {@code alive} tells whether an
   * earlier registration's node is still up and reachable.
   */
  Admission admit(
      CoordinatorProtocol.Register m, int places, Predicate<CoordinatorProtocol.Register> alive) {
    Optional<String> refusal = ca.flatMap(authority -> refusal(m, authority));
    if (refusal.isPresent()) {
      return new Refused(refusal.get());
    }
    CoordinatorProtocol.Register earlier = byId.get(m.workerId());
    if (earlier != null) {
      if (earlier.worker().equals(m.worker())) {
        return new Again();
      }
      return alive.test(earlier) ? new Occupied(earlier) : new Restarted(earlier);
    }
    return byId.size() >= places ? new Full() : new Joining();
  }

  /**
   * Why {@code m}'s proof does not show it comes from worker {@code m.workerId()}, if it does not.
   */
  private static Optional<String> refusal(CoordinatorProtocol.Register m, X509Certificate ca) {
    NodeProof.Verified v =
        new NodeProof(m.certificate(), m.signature())
            .verify(
                ca,
                CoordinatorProtocol.Register.statement(
                    m.workerId(), m.host(), m.exchangePort(), m.device()));
    if (v.identity().isEmpty()) {
      return Optional.of(
          "the registration of worker " + m.workerId() + " is refused: " + v.refusal());
    }
    NodeIdentity expected = NodeIdentity.worker(m.workerId());
    if (!v.identity().get().equals(expected)) {
      return Optional.of(
          "the registration of worker "
              + m.workerId()
              + " is refused: it is signed by "
              + v.identity().get()
              + ", and only "
              + expected
              + " may register as "
              + m.workerId());
    }
    return Optional.empty();
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
