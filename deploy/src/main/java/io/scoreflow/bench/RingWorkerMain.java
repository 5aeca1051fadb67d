package io.scoreflow.bench;

import io.scoreflow.security.CertificateDirectory;
import io.scoreflow.security.TransportSecurity;
import io.scoreflow.worker.exchange.ring.ReduceOp;
import io.scoreflow.worker.exchange.ring.RingAllReduce;
import io.scoreflow.worker.exchange.ring.RingEndpoint;
import io.scoreflow.worker.exchange.ring.RingTransport;
import io.scoreflow.worker.exchange.ring.WireEncoding;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.StringJoiner;
import java.util.zip.CRC32;

/**
 * One worker process of the multi-process test and of {@link AllReduceBenchmark}, driven line by
 * line over stdin/stdout by its parent ({@link RingWorkerProcess}). It starts an endpoint on an
 * ephemeral loopback port and prints {@code PORT p}; then it obeys:
 *
 * <ul>
 *   <li>{@code RING job generation rank peer,peer,... chunkBytes encoding timeoutMs} → {@code
 *       READY}
 *   <li>{@code CHECK elements step SUM|MEAN}: reduces small integers and checks every element →
 *       {@code OK crc32} or {@code FAIL why}
 *   <li>{@code BENCH elements warmup repeats firstStep}: timed MEAN all-reduces → {@code TIMES
 *       ns,ns,... cpuNs} (the process's CPU time over the timed repeats)
 *   <li>{@code TCP_SERVE} → {@code TCP_PORT p}; {@code TCP_SEND host port bytes warmup repeats} →
 *       {@code TIMES ns,...}
 *   <li>{@code PLAIN_SERVE} → {@code PLAIN_PORT p}; {@code PLAIN_BENCH rank world host port
 *       elements chunkElements warmup repeats} → {@code TIMES ns,... cpuNs} (the reference ring of
 *       {@link PlainSocketRing}, connected to the right neighbour's plain port)
 *   <li>{@code TLS_SERVE dir id}: a second endpoint over mutual TLS as worker {@code id} of the
 *       certificates in {@code dir} → {@code TLS_PORT p}; {@code TLS_RING job generation rank
 *       peer,... id,... chunkBytes encoding timeoutMs} → {@code READY}: the ring (used by the next
 *       {@code CHECK} and {@code BENCH}) over it, each peer proving the id of its rank
 *   <li>{@code QUIT}, or the end of stdin (the parent went away): exits
 * </ul>
 *
 * Any failure prints {@code ERROR why} and exits with status 1.
 */
public final class RingWorkerMain {

  private RingWorkerMain() {}

  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    RingAllReduce ring = null;
    ServerSocketChannel tcp = null;
    PlainSocketRing plain = null;
    RingEndpoint tlsEndpoint = null;
    TransportSecurity tls = null;
    try (RingEndpoint endpoint =
        RingEndpoint.start(
            RingTransport.serverBuilder(new InetSocketAddress("127.0.0.1", 0)),
            "worker-" + ProcessHandle.current().pid())) {
      out.println("PORT " + endpoint.port());
      for (String line; (line = in.readLine()) != null; ) {
        String[] w = line.trim().split(" ");
        switch (w[0]) {
          case "RING" -> {
            if (ring != null) {
              ring.close();
            }
            ring =
                RingAllReduce.builder()
                    .endpoint(endpoint)
                    .job(w[1])
                    .generation(Long.parseLong(w[2]))
                    .rank(Integer.parseInt(w[3]))
                    .peers(List.of(w[4].split(",")))
                    .chunkBytes(Integer.parseInt(w[5]))
                    .encoding(WireEncoding.valueOf(w[6]))
                    .timeout(Duration.ofMillis(Long.parseLong(w[7])))
                    .build();
            out.println("READY");
          }
          case "TLS_SERVE" -> {
            tls =
                TransportSecurity.mutualTls(
                    CertificateDirectory.load(java.nio.file.Path.of(w[1]), w[2]));
            tlsEndpoint =
                RingEndpoint.start(
                    RingTransport.serverBuilder(new InetSocketAddress("127.0.0.1", 0), tls), w[2]);
            out.println("TLS_PORT " + tlsEndpoint.port());
          }
          case "TLS_RING" -> {
            if (ring != null) {
              ring.close();
            }
            ring =
                RingAllReduce.builder()
                    .endpoint(tlsEndpoint)
                    .job(w[1])
                    .generation(Long.parseLong(w[2]))
                    .rank(Integer.parseInt(w[3]))
                    .peers(List.of(w[4].split(",")))
                    .peerIds(List.of(w[5].split(",")))
                    .security(tls)
                    .chunkBytes(Integer.parseInt(w[6]))
                    .encoding(WireEncoding.valueOf(w[7]))
                    .timeout(Duration.ofMillis(Long.parseLong(w[8])))
                    .build();
            out.println("READY");
          }
          case "CHECK" ->
              out.println(
                  check(
                      ring, Integer.parseInt(w[1]), Long.parseLong(w[2]), ReduceOp.valueOf(w[3])));
          case "BENCH" ->
              out.println(
                  "TIMES "
                      + bench(
                          ring,
                          Integer.parseInt(w[1]),
                          Integer.parseInt(w[2]),
                          Integer.parseInt(w[3]),
                          Long.parseLong(w[4])));
          case "TCP_SERVE" -> {
            tcp = LoopbackTcp.serve();
            out.println("TCP_PORT " + ((InetSocketAddress) tcp.getLocalAddress()).getPort());
          }
          case "TCP_SEND" ->
              out.println(
                  "TIMES "
                      + join(
                          LoopbackTcp.send(
                              w[1],
                              Integer.parseInt(w[2]),
                              Long.parseLong(w[3]),
                              Integer.parseInt(w[4]),
                              Integer.parseInt(w[5]))));
          case "PLAIN_SERVE" -> {
            plain = PlainSocketRing.listen();
            out.println("PLAIN_PORT " + plain.port());
          }
          case "PLAIN_BENCH" -> {
            plain.connect(
                Integer.parseInt(w[1]), Integer.parseInt(w[2]), w[3], Integer.parseInt(w[4]));
            out.println(
                "TIMES "
                    + plainBench(
                        plain,
                        Integer.parseInt(w[1]),
                        Integer.parseInt(w[2]),
                        Integer.parseInt(w[5]),
                        Integer.parseInt(w[6]),
                        Integer.parseInt(w[7]),
                        Integer.parseInt(w[8])));
          }
          case "QUIT" -> {
            return;
          }
          default -> throw new IllegalArgumentException("unknown command: " + line);
        }
      }
    } catch (Exception | Error e) {
      out.println("ERROR " + String.valueOf(e).replace('\n', ' '));
      e.printStackTrace();
      System.exit(1);
    } finally {
      if (ring != null) {
        ring.close();
      }
      if (tcp != null) {
        tcp.close();
      }
      if (plain != null) {
        plain.close();
      }
      if (tlsEndpoint != null) {
        tlsEndpoint.close();
      }
    }
  }

  /** The value rank r contributes at element i of a step: small integers, so sums are exact. */
  static float value(int rank, int i, long step) {
    return (float) (((i * 7L + rank * 13L + step * 5L) % 101) - 50);
  }

  private static String check(RingAllReduce ring, int elements, long step, ReduceOp op) {
    float[] b = new float[elements];
    for (int i = 0; i < elements; i++) {
      b[i] = value(ring.rank(), i, step);
    }
    ring.allReduce(b, step, op);
    int world = ring.worldSize();
    CRC32 crc = new CRC32();
    for (int i = 0; i < elements; i++) {
      float sum = 0;
      for (int r = 0; r < world; r++) {
        sum += value(r, i, step);
      }
      float expected = op == ReduceOp.SUM ? sum : sum / world;
      if (Float.floatToIntBits(b[i]) != Float.floatToIntBits(expected)) {
        return "FAIL element " + i + " is " + b[i] + ", expected " + expected;
      }
      int bits = Float.floatToIntBits(b[i]);
      crc.update(
          new byte[] {(byte) bits, (byte) (bits >> 8), (byte) (bits >> 16), (byte) (bits >> 24)});
    }
    return "OK " + Long.toHexString(crc.getValue());
  }

  /** Timed MEAN all-reduces; answers the per-repeat nanoseconds and this process's CPU time. */
  private static String bench(
      RingAllReduce ring, int elements, int warmup, int repeats, long firstStep) {
    float[] b = new float[elements];
    Arrays.fill(b, 1f);
    long[] nanos = new long[repeats];
    long cpuStart = 0;
    for (int i = -warmup; i < repeats; i++) {
      if (i == 0) {
        cpuStart = processCpuNanos();
      }
      long start = System.nanoTime();
      ring.allReduce(b, firstStep + warmup + i, ReduceOp.MEAN);
      if (i >= 0) {
        nanos[i] = System.nanoTime() - start;
      }
    }
    return join(nanos) + " " + (processCpuNanos() - cpuStart);
  }

  /**
   * Timed sums over the plain-socket reference ring; every rank contributes {@code rank + 1} to
   * every element, so each result must be exactly {@code world (world + 1) / 2}, checked after
   * every repeat (outside the timing). Answers as {@link #bench}.
   */
  private static String plainBench(
      PlainSocketRing ring,
      int rank,
      int world,
      int elements,
      int chunkElements,
      int warmup,
      int repeats) {
    float[] b = new float[elements];
    float expected = world * (world + 1) / 2f;
    long[] nanos = new long[repeats];
    long cpu = 0;
    for (int i = -warmup; i < repeats; i++) {
      Arrays.fill(b, rank + 1f);
      long cpuStart = processCpuNanos();
      long start = System.nanoTime();
      ring.allReduceSum(b, chunkElements);
      if (i >= 0) {
        nanos[i] = System.nanoTime() - start;
        cpu += processCpuNanos() - cpuStart;
      }
      for (int e = 0; e < elements; e++) {
        if (b[e] != expected) {
          throw new IllegalStateException(
              "plain-socket ring: element " + e + " is " + b[e] + ", expected " + expected);
        }
      }
    }
    return join(nanos) + " " + cpu;
  }

  /** CPU time of this process (all threads, user + system), or -1 where the JVM does not say. */
  static long processCpuNanos() {
    return ManagementFactory.getOperatingSystemMXBean()
            instanceof com.sun.management.OperatingSystemMXBean os
        ? os.getProcessCpuTime()
        : -1;
  }

  private static String join(long[] values) {
    StringJoiner j = new StringJoiner(",");
    for (long v : values) {
      j.add(Long.toString(v));
    }
    return j.toString();
  }
}
