package io.scoreflow.worker.exchange.star;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.ndarray.NDManager;
import io.scoreflow.security.TransportSecurity;
import io.scoreflow.worker.exchange.ExchangeReducer;
import io.scoreflow.worker.exchange.ExchangeServer;
import io.scoreflow.worker.exchange.PeerAddress;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;

/**
 * Rank 0 of the star fed what a stranger sends to its port while the real ring forms: random bytes,
 * mangled hellos, hellos with absurd lengths, and a connection that never speaks. Each is dropped
 * or refused by itself, and the two real ranks still connect and get the exact mean.
 */
class StarHubFuzzTest {

  private static final ExecutorService POOL = Executors.newCachedThreadPool();
  private static final float[] G0 = {1f, -2f, 0.5f, 3f};
  private static final float[] G1 = {0.25f, 4f, -1.5f, 1f};

  @AfterContainer
  static void stopPool() {
    POOL.shutdownNow();
  }

  @Property
  void whatAStrangerSendsDoesNotStopTheRing(@ForAll("strangers") byte[] bytes) throws Exception {
    ringFormsDespite(bytes, true);
  }

  /**
   * A connection that sends nothing at all: rank 0 takes connections one at a time, and before the
   * hello got its own timeout this held the ring's forming for the whole open deadline.
   */
  @Example
  void aStrangerWhoNeverSpeaksIsDroppedAfterTheHelloTimeout() throws Exception {
    ringFormsDespite(new byte[0], false);
  }

  private static void ringFormsDespite(byte[] stranger, boolean hangUp) throws Exception {
    Duration deadline = StarExchange.HELLO_TIMEOUT.plusSeconds(20);
    List<ExchangeServer> servers = new ArrayList<>();
    try {
      List<PeerAddress> ring = new ArrayList<>();
      for (int r = 0; r < 2; r++) {
        ExchangeServer s =
            StarExchange.start("127.0.0.1", 0, deadline, TransportSecurity.plaintext());
        servers.add(s);
        ring.add(new PeerAddress(r, "worker-00" + r, "127.0.0.1", s.port()));
      }
      Future<float[]> rank0 = reduce(servers.get(0), ring, 0, G0);
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", ring.get(0).port()), 5000);
        OutputStream out = s.getOutputStream();
        out.write(stranger);
        out.flush();
        if (hangUp) {
          s.shutdownOutput();
        }
        Future<float[]> rank1 = reduce(servers.get(1), ring, 1, G1);
        float[] mean = new float[G0.length];
        for (int i = 0; i < mean.length; i++) {
          mean[i] = (G0[i] + G1[i]) / 2;
        }
        assertArrayEquals(mean, rank0.get(60, TimeUnit.SECONDS));
        assertArrayEquals(mean, rank1.get(60, TimeUnit.SECONDS));
      }
    } finally {
      servers.forEach(ExchangeServer::close);
    }
  }

  private static Future<float[]> reduce(
      ExchangeServer server, List<PeerAddress> ring, int rank, float[] gradient) {
    return POOL.submit(
        () -> {
          try (NDManager manager = NDManager.newBaseManager();
              ExchangeReducer reducer = server.open("job", 1, rank, ring)) {
            return reducer.allReduceMean(manager.create(gradient), 0, manager).toFloatArray();
          }
        });
  }

  @Provide
  Arbitrary<byte[]> strangers() {
    Arbitrary<byte[]> random = Arbitraries.bytes().array(byte[].class).ofMaxSize(300);
    // A hello of another job, then cut, flipped or with its length field set to anything.
    Arbitrary<byte[]> mangled =
        Combinators.combine(
                Arbitraries.integers(),
                Arbitraries.integers().between(0, 40),
                Arbitraries.integers().between(0, 255))
            .as(
                (length, at, value) -> {
                  byte[] hello = hello("other-job", length);
                  byte[] cut = java.util.Arrays.copyOf(hello, Math.min(hello.length, at + 8));
                  cut[Math.min(at, cut.length - 1)] ^= (byte) value.intValue();
                  return cut;
                });
    Arbitrary<byte[]> hugeLengths =
        Arbitraries.of(Integer.MAX_VALUE, Integer.MIN_VALUE, -1, 4097, 1 << 30)
            .map(length -> hello("job", length));
    return Arbitraries.oneOf(random, mangled, hugeLengths);
  }

  /** A hello of {@code job} (generation 1, rank 1 of 2) whose length field says {@code length}. */
  private static byte[] hello(String job, int length) {
    byte[] name = job.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + name.length + 16).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(StarExchange.HELLO).putInt(length).put(name).putLong(1).putInt(1).putInt(2);
    return b.array();
  }
}
