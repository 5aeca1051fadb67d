package io.scoreflow.worker.exchange.ring;

/** This worker's place in one generation of one job's ring. */
record RingMembership(String job, long generation, int rank, int worldSize) {

  RingMembership {
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

  /** The rank this worker streams to. */
  int rightRank() {
    return (rank + 1) % worldSize;
  }

  @Override
  public String toString() {
    return "job '" + job + "' generation " + generation + " rank " + rank + "/" + worldSize;
  }
}
