package io.scoreflow.worker.exchange;

/** Where the exchange server of the ring's {@code rank} listens. */
public record PeerAddress(int rank, String workerId, String host, int port) {

  @Override
  public String toString() {
    return "rank " + rank + " (" + workerId + " at " + host + ":" + port + ")";
  }
}
