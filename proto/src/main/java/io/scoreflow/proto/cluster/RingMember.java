package io.scoreflow.proto.cluster;

/**
 * One place in the ring of a generation: the worker at {@code rank}, and where its gradient
 * exchange server listens ({@code host:exchangePort}).
 */
public record RingMember(int rank, String workerId, String host, int exchangePort, String device)
    implements CborSerializable {

  public RingMember {
    Fields.text(workerId, "workerId", Fields.NAME);
    Fields.text(host, "host", Fields.NAME);
    Fields.port(exchangePort, "exchangePort");
    Fields.text(device, "device", Fields.NAME);
  }

  public String exchangeAddress() {
    return host + ":" + exchangePort;
  }
}
