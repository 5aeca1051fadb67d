package io.scoreflow.proto.cluster;

/**
 * One place in the ring of a generation: the worker at {@code rank}, and where its gradient
 * exchange server listens ({@code host:exchangePort}).
 */
public record RingMember(int rank, String workerId, String host, int exchangePort, String device)
    implements CborSerializable {

  public String exchangeAddress() {
    return host + ":" + exchangePort;
  }
}
