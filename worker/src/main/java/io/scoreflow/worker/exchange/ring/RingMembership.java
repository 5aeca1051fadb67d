package io.scoreflow.worker.exchange.ring;

/**
 * This worker's place in one generation of one job's ring.
 *
 * @param workerIds the worker id of every rank (index = rank), which streams must prove with their
 *     certificates; empty when the ring was given addresses only (benchmarks, tests)
 */
record RingMembership(
    String job, long generation, int rank, int worldSize, java.util.List<String> workerIds) {

  RingMembership {
    workerIds = java.util.List.copyOf(workerIds);
    if (!workerIds.isEmpty() && workerIds.size() != worldSize) {
      throw new IllegalArgumentException(
          workerIds.size() + " worker ids for a ring of " + worldSize);
    }
    if (job == null || job.isEmpty()) {
      throw new IllegalArgumentException("job must be set");
    }
    if (worldSize < 1 || rank < 0 || rank >= worldSize) {
      throw new IllegalArgumentException(
          "rank must be in [0, worldSize), got rank " + rank + " of " + worldSize);
    }
  }

  /** The rank whose stream this worker receives. */
  int leftRank() {
    return Math.floorMod(rank - 1, worldSize);
  }

  /** The worker id of {@code r}, when the ring knows its members' ids. */
  java.util.Optional<String> workerId(int r) {
    return workerIds.isEmpty()
        ? java.util.Optional.empty()
        : java.util.Optional.of(workerIds.get(r));
  }

  /** The rank this worker streams to. */
  int rightRank() {
    return (rank + 1) % worldSize;
  }

  @Override
  public String toString() {
    return "job '" + job + "' generation " + generation + " rank " + rank + "/" + worldSize;
  }
}
