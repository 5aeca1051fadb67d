package io.scoreflow.bench;

import io.scoreflow.security.CertificateDirectory;
import io.scoreflow.security.JobCa;
import io.scoreflow.security.NodeIdentity;
import io.scoreflow.worker.exchange.ring.RingAllReduce;
import io.scoreflow.worker.exchange.ring.WireEncoding;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * {@code scoreflow bench allreduce}: the bus bandwidth of the gRPC ring all-reduce between worker
 * processes on loopback, next to the raw TCP bandwidth between two of the same processes measured
 * in the same run (before and after), so the ratio does not depend on how fast or how loaded the
 * machine happens to be.
 *
 * <p>Definitions (as nccl-tests): {@code algbw = bytes / time} of one all-reduce of the buffer;
 * {@code busbw = algbw * 2 (n - 1) / n}, the rate at which each rank's link carries data in a ring;
 * both in 10^9 bits per second. The time of a repeat is the slowest rank's; the reported time is
 * the median over repeats, after warm-up (the JIT needs dozens of large runs to settle). The CPU
 * time of all workers per all-reduce is reported too: on a small, shared machine the ring is
 * CPU-bound, and CPU per all-reduce depends much less than time on what else runs.
 *
 * <p>The same workers then run the same ring over plain sockets ({@link PlainSocketRing}), the
 * reference for what the gRPC transport costs: gRPC busbw / plain busbw is the transport's
 * efficiency, plain busbw / raw TCP what the machine allows any ring of this shape.
 *
 * <p>Last, the same gRPC ring over mutual TLS, as every job runs it (certificates of a CA made for
 * the run): TLS busbw / plaintext gRPC busbw is what the encryption costs.
 */
public final class AllReduceBenchmark {

  /** What to measure; {@link #of} fills in the defaults. */
  public record Options(
      int workers,
      double mbytes,
      int warmup,
      int repeats,
      int chunkBytes,
      WireEncoding encoding,
      List<String> jvmOptions) {

    public Options {
      if (workers < 2) {
        throw new IllegalArgumentException("--workers must be >= 2, got " + workers);
      }
      if (!(mbytes > 0) || mbytes * (1 << 20) / 4 > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException("--mbytes must be in (0, 8192), got " + mbytes);
      }
      if (warmup < 0 || repeats < 1) {
        throw new IllegalArgumentException("--warmup must be >= 0 and --repeats >= 1");
      }
      jvmOptions = List.copyOf(jvmOptions);
    }

    /**
     * 100 warm-up and 30 timed all-reduces in fp32 chunks of the default size. Fewer warm-ups leave
     * the JIT compiling during the timed repeats: measured CPU per 64 MiB all-reduce was 0.58 s
     * after 20 warm-ups, 0.36 s after 60, 0.28 s after 100, 0.27 s after 200.
     */
    public static Options of(int workers, double mbytes) {
      return new Options(
          workers,
          mbytes,
          100,
          30,
          RingAllReduce.DEFAULT_CHUNK_BYTES,
          WireEncoding.FP32,
          List.of());
    }

    public Options withRepeats(int warmup, int repeats) {
      return new Options(workers, mbytes, warmup, repeats, chunkBytes, encoding, jvmOptions);
    }

    public Options withChunkBytes(int chunkBytes) {
      return new Options(workers, mbytes, warmup, repeats, chunkBytes, encoding, jvmOptions);
    }

    public Options withEncoding(WireEncoding encoding) {
      return new Options(workers, mbytes, warmup, repeats, chunkBytes, encoding, jvmOptions);
    }

    public Options withJvmOptions(List<String> jvmOptions) {
      return new Options(workers, mbytes, warmup, repeats, chunkBytes, encoding, jvmOptions);
    }
  }

  /**
   * The measurement; bandwidths in Gb/s (10^9 bits per second), times in seconds. The {@code
   * plain*} fields are the reference ring over plain sockets ({@link PlainSocketRing}: the same
   * schedule and chunks, fp32, no gRPC), timed the same way in the same run.
   */
  public record Result(
      int workers,
      double mbytes,
      String encoding,
      int chunkBytes,
      int warmup,
      int repeats,
      double medianSeconds,
      double algbwGbps,
      double busbwGbps,
      double loopbackGbps,
      double ratio,
      double loopbackBeforeGbps,
      double loopbackAfterGbps,
      double cpuSecondsPerAllReduce,
      double[] seconds,
      double plainMedianSeconds,
      double plainBusbwGbps,
      double plainRatio,
      double plainCpuSecondsPerAllReduce,
      double tlsMedianSeconds,
      double tlsBusbwGbps,
      double tlsCpuSecondsPerAllReduce) {}

  private static final int TCP_WARMUP = 5;
  private static final int TCP_REPEATS = 15;
  private static final long STEP_TIMEOUT_MS = 60_000;

  private AllReduceBenchmark() {}

  /** Spawns the workers, measures, and stops them; {@code progress} gets one line per phase. */
  public static Result run(Options o, Consumer<String> progress) {
    long bytes = (long) (o.mbytes() * (1 << 20)) / 4 * 4;
    int elements = (int) (bytes / 4);
    List<RingWorkerProcess> workers = new ArrayList<>();
    try {
      progress.accept("starting " + o.workers() + " worker processes");
      for (int r = 0; r < o.workers(); r++) {
        workers.add(RingWorkerProcess.start("rank" + r, o.jvmOptions()));
      }
      List<String> peers = new ArrayList<>();
      for (RingWorkerProcess w : workers) {
        peers.add("127.0.0.1:" + w.expect("PORT", 60, TimeUnit.SECONDS));
      }
      for (int r = 0; r < o.workers(); r++) {
        workers
            .get(r)
            .send(
                String.join(
                    " ",
                    "RING",
                    "bench",
                    "1",
                    Integer.toString(r),
                    String.join(",", peers),
                    Integer.toString(o.chunkBytes()),
                    o.encoding().name(),
                    Long.toString(STEP_TIMEOUT_MS)));
      }
      for (RingWorkerProcess w : workers) {
        w.expect("READY", 60, TimeUnit.SECONDS);
      }

      progress.accept("raw TCP between two workers");
      workers.get(1).send("TCP_SERVE");
      String tcpPort = workers.get(1).expect("TCP_PORT", 30, TimeUnit.SECONDS);
      double tcpBefore = tcpGbps(workers.get(0), tcpPort, bytes);

      progress.accept(
          String.format(
              Locale.ROOT,
              "gRPC ring: %d warm-up and %d timed all-reduces of %.4g MB",
              o.warmup(),
              o.repeats(),
              o.mbytes()));
      for (RingWorkerProcess w : workers) {
        w.send("BENCH " + elements + " " + o.warmup() + " " + o.repeats() + " 0");
      }
      long wait = STEP_TIMEOUT_MS * (o.warmup() + o.repeats()) + 60_000;
      Timed grpc = collect(workers, o.repeats(), wait);

      progress.accept(
          "the same ring over plain sockets (reference): "
              + o.warmup()
              + " warm-up and "
              + o.repeats()
              + " timed");
      List<String> plainPorts = new ArrayList<>();
      for (RingWorkerProcess w : workers) {
        w.send("PLAIN_SERVE");
        plainPorts.add(w.expect("PLAIN_PORT", 30, TimeUnit.SECONDS));
      }
      for (int r = 0; r < o.workers(); r++) {
        workers
            .get(r)
            .send(
                String.join(
                    " ",
                    "PLAIN_BENCH",
                    Integer.toString(r),
                    Integer.toString(o.workers()),
                    "127.0.0.1",
                    plainPorts.get((r + 1) % o.workers()),
                    Integer.toString(elements),
                    Integer.toString(o.chunkBytes() / 4),
                    Integer.toString(o.warmup()),
                    Integer.toString(o.repeats())));
      }
      Timed plain = collect(workers, o.repeats(), wait);

      Timed tls = tlsRing(workers, o, elements, wait, progress);

      progress.accept("raw TCP again");
      double tcpAfter = tcpGbps(workers.get(0), tcpPort, bytes);

      double loopback = Math.max(tcpBefore, tcpAfter);
      double busbw = busbwGbps(bytes, o.workers(), grpc.medianSeconds());
      double plainBusbw = busbwGbps(bytes, o.workers(), plain.medianSeconds());
      return new Result(
          o.workers(),
          o.mbytes(),
          o.encoding().name(),
          o.chunkBytes(),
          o.warmup(),
          o.repeats(),
          grpc.medianSeconds(),
          bytes * 8 / grpc.medianSeconds() / 1e9,
          busbw,
          loopback,
          busbw / loopback,
          tcpBefore,
          tcpAfter,
          grpc.cpuSeconds() / o.repeats(),
          grpc.seconds(),
          plain.medianSeconds(),
          plainBusbw,
          plainBusbw / loopback,
          plain.cpuSeconds() / o.repeats(),
          tls.medianSeconds(),
          busbwGbps(bytes, o.workers(), tls.medianSeconds()),
          tls.cpuSeconds() / o.repeats());
    } finally {
      for (RingWorkerProcess w : workers) {
        w.close();
      }
    }
  }

  /**
   * The gRPC ring again over mutual TLS: a CA made for this run, a certificate per worker in a
   * private temporary directory, a second endpoint per worker; timed like the plaintext ring.
   */
  private static Timed tlsRing(
      List<RingWorkerProcess> workers,
      Options o,
      int elements,
      long wait,
      Consumer<String> progress) {
    progress.accept(
        "the gRPC ring over mutual TLS: " + o.warmup() + " warm-up and " + o.repeats() + " timed");
    java.nio.file.Path certs = null;
    try {
      certs =
          java.nio.file.Files.createTempDirectory(
              "scoreflow-bench-tls-",
              java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                  java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
      JobCa ca = JobCa.create("bench", java.time.Duration.ofDays(1));
      CertificateDirectory.writeCaCertificate(certs, ca.certificate());
      List<String> ids = new ArrayList<>();
      for (int r = 0; r < o.workers(); r++) {
        String id = String.format(Locale.ROOT, "worker-%03d", r);
        ids.add(id);
        CertificateDirectory.write(
            certs, ca.issue(NodeIdentity.worker(id), java.time.Duration.ofDays(1)));
      }
      List<String> ports = new ArrayList<>();
      for (int r = 0; r < o.workers(); r++) {
        workers.get(r).send("TLS_SERVE " + certs + " " + ids.get(r));
        ports.add("127.0.0.1:" + workers.get(r).expect("TLS_PORT", 60, TimeUnit.SECONDS));
      }
      for (int r = 0; r < o.workers(); r++) {
        workers
            .get(r)
            .send(
                String.join(
                    " ",
                    "TLS_RING",
                    "bench-tls",
                    "1",
                    Integer.toString(r),
                    String.join(",", ports),
                    String.join(",", ids),
                    Integer.toString(o.chunkBytes()),
                    o.encoding().name(),
                    Long.toString(STEP_TIMEOUT_MS)));
      }
      for (RingWorkerProcess w : workers) {
        w.expect("READY", 60, TimeUnit.SECONDS);
      }
      for (RingWorkerProcess w : workers) {
        w.send("BENCH " + elements + " " + o.warmup() + " " + o.repeats() + " 0");
      }
      return collect(workers, o.repeats(), wait);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("could not write the benchmark's certificates", e);
    } finally {
      if (certs != null) {
        try (java.util.stream.Stream<java.nio.file.Path> tree = java.nio.file.Files.walk(certs)) {
          tree.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (java.io.IOException e) {
          // Best effort: a private temporary directory without a CA key.
        }
      }
    }
  }

  /** One timed series: per repeat the slowest rank's seconds, and the CPU of all ranks. */
  private record Timed(double[] seconds, double cpuSeconds) {
    double medianSeconds() {
      return median(seconds);
    }
  }

  /** Reads every rank's {@code TIMES ns,... cpuNs} answer. */
  private static Timed collect(List<RingWorkerProcess> workers, int repeats, long waitMs) {
    double[] seconds = new double[repeats];
    long cpuNanos = 0;
    for (RingWorkerProcess w : workers) {
      String[] answer = w.expect("TIMES", waitMs, TimeUnit.MILLISECONDS).split(" ");
      long[] nanos = parse(answer[0]);
      for (int i = 0; i < repeats; i++) {
        seconds[i] = Math.max(seconds[i], nanos[i] / 1e9);
      }
      cpuNanos += Long.parseLong(answer[1]);
    }
    return new Timed(seconds, cpuNanos / 1e9);
  }

  /** busbw = algbw x 2 (n - 1) / n, in Gb/s. */
  private static double busbwGbps(long bytes, int workers, double seconds) {
    return bytes * 8 / seconds / 1e9 * 2 * (workers - 1) / workers;
  }

  private static double tcpGbps(RingWorkerProcess sender, String port, long bytes) {
    sender.send("TCP_SEND 127.0.0.1 " + port + " " + bytes + " " + TCP_WARMUP + " " + TCP_REPEATS);
    long[] nanos = parse(sender.expect("TIMES", 120, TimeUnit.SECONDS));
    double[] s = new double[nanos.length];
    for (int i = 0; i < s.length; i++) {
      s[i] = nanos[i] / 1e9;
    }
    return bytes * 8 / median(s) / 1e9;
  }

  private static long[] parse(String csv) {
    return Arrays.stream(csv.split(",")).mapToLong(Long::parseLong).toArray();
  }

  static double median(double[] values) {
    double[] v = values.clone();
    Arrays.sort(v);
    int n = v.length;
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }
}
