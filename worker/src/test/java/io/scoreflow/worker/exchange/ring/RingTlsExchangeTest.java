package io.scoreflow.worker.exchange.ring;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.scoreflow.security.NodeIdentity;
import io.scoreflow.security.TlsMaterial;
import io.scoreflow.worker.exchange.ExchangeContractTest;
import io.scoreflow.worker.exchange.ExchangeServer;
import io.scoreflow.worker.exchange.PeerAddress;
import io.scoreflow.worker.exchange.TestCertificates;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The ring over mutual TLS: the whole exchange contract again, and the three intruders of the
 * threat model (a plaintext client, a certificate from another CA, an admitted worker claiming
 * another's rank) each refused while the real ring goes on to the exact mean.
 */
class RingTlsExchangeTest extends ExchangeContractTest {

  @Override
  protected ExchangeServer start(String workerId, Duration deadline) {
    return RingExchange.start(workerId, "127.0.0.1", 0, deadline, TestCertificates.tls(workerId));
  }

  private static ManagedChannel presenting(TlsMaterial client, TlsMaterial trusting, int port) {
    return NettyChannelBuilder.forTarget(
            "127.0.0.1:" + port,
            TlsChannelCredentials.newBuilder()
                .keyManager(client.keyManagers())
                .trustManager(trusting.trustAnyNode())
                .build())
        .build();
  }

  @Test
  void intrudersAreRefusedAndTheRingGoesOn() throws Exception {
    List<PeerAddress> ring = ring(2, Duration.ofSeconds(30));
    float[][][] grads = {gradients(2, 1000, 11)};
    Future<float[][]> rank0 = rank(ring, 0, "job", 1, new long[] {0}, grads);
    int port = ring.get(0).port();
    var hello = RogueSender.of(RogueSender.hello("job", 1, 1, 2, 0).setBufferElements(1000));

    Status plaintext = RogueSender.send("127.0.0.1:" + port, hello);
    assertEquals(Status.Code.UNAVAILABLE, plaintext.getCode(), "plaintext: " + plaintext);

    TlsMaterial stranger =
        TlsMaterial.issue(TestCertificates.STRANGER, NodeIdentity.worker("worker-001"));
    Status foreign =
        RogueSender.send(presenting(stranger, TestCertificates.worker("worker-001"), port), hello);
    assertEquals(Status.Code.UNAVAILABLE, foreign.getCode(), "another CA: " + foreign);

    TlsMaterial admitted = TestCertificates.worker("worker-002");
    Status impostor = RogueSender.send(presenting(admitted, admitted, port), hello);
    assertEquals(Status.Code.PERMISSION_DENIED, impostor.getCode(), "impostor: " + impostor);
    assertTrue(
        impostor.getDescription().contains("which is worker worker-001")
            && impostor.getDescription().contains("certificate names worker worker-002"),
        impostor.getDescription());

    Future<float[][]> rank1 = rank(ring, 1, "job", 1, new long[] {0}, grads);
    float[][] got0 = rank0.get(60, TimeUnit.SECONDS);
    float[][] got1 = rank1.get(60, TimeUnit.SECONDS);
    assertArrayEquals(got0[0], got1[0]);
    for (int i = 0; i < 1000; i++) {
      // Two terms: (a + b) / 2 in float is the correctly rounded mean.
      assertEquals((grads[0][0][i] + grads[0][1][i]) / 2f, got0[0][i], "element " + i);
    }
  }

  @Test
  void aRingWhoseNeighbourIsSomeoneElseNeverConnects() throws Exception {
    List<PeerAddress> real = ring(2, Duration.ofSeconds(3));
    // Rank 0 is told that worker-009 is at rank 1's address: the server there proves to be
    // worker-001, so rank 0's handshakes fail and its open gives up at the deadline.
    List<PeerAddress> lied =
        List.of(real.get(0), new PeerAddress(1, "worker-009", "127.0.0.1", real.get(1).port()));
    float[][][] grads = {gradients(2, 10, 12)};
    Future<float[][]> fooled = rank(lied, 0, "job", 1, new long[] {0}, grads);
    assertTrue(failure(fooled).getMessage().contains("worker-009"), "names whom it expected");
  }
}
