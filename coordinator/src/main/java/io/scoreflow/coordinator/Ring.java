package io.scoreflow.coordinator;

import io.scoreflow.proto.cluster.RingMember;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/** The rank order of a generation: rank = position of the worker id in sorted order. */
public final class Ring {

  /** A worker that registered, as the ring needs it. */
  public record Candidate(String workerId, String host, int exchangePort, String device) {}

  private Ring() {}

  /**
   * The ring of {@code candidates}: sorted by worker id (plain string order, so ids should be
   * zero-padded: {@code worker-007}), and cut to the largest size of at least {@code minSize} that
   * divides {@code globalBatchSize}, so every rank gets an equal shard. Empty when no size fits.
   */
  public static Optional<List<RingMember>> form(
      List<Candidate> candidates, int minSize, int globalBatchSize) {
    List<Candidate> sorted = new ArrayList<>(candidates);
    sorted.sort(Comparator.comparing(Candidate::workerId));
    int size = sorted.size();
    while (size >= Math.max(1, minSize) && globalBatchSize % size != 0) {
      size--;
    }
    if (size < Math.max(1, minSize)) {
      return Optional.empty();
    }
    List<RingMember> ring = new ArrayList<>(size);
    for (int rank = 0; rank < size; rank++) {
      Candidate c = sorted.get(rank);
      ring.add(new RingMember(rank, c.workerId(), c.host(), c.exchangePort(), c.device()));
    }
    return Optional.of(List.copyOf(ring));
  }
}
