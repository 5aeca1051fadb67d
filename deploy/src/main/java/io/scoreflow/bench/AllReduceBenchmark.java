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
import java.util.Optional;
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
 * <p>The ring runs twice, with fp32 and with bf16 payloads; the bf16 ring's bandwidth is counted in
 * the float32 bytes it averages, what a training step with {@code scoreflow.cluster.wire = bf16}
 * gains. Beside them, where a {@code python3} with {@code torch} is found, the peer a PyTorch user
 * would pick: {@code torch.distributed}'s gloo all_reduce between as many processes ({@link
 * GlooReference}). The three alternate round by round ({@code --rounds}), so load that comes and
 * goes touches them alike.
 *
 * <p>The same workers then run the same ring over plain sockets ({@link PlainSocketRing}), the
 * reference for what the gRPC transport costs: gRPC busbw / plain busbw is the transport's
 * efficiency, plain busbw / raw TCP what the machine allows any ring of this shape.
 *
 * <p>Last, the same gRPC ring over mutual TLS, as every job runs it (certificates of a CA made for
 * the run): TLS busbw / plaintext gRPC busbw is what the encryption costs.
 */
public final class AllReduceBenchmark {

  /**
   * What to measure; {@link #of} fills in the defaults.
   *
   * @param rounds how many times the fp32 ring, the bf16 ring and gloo run, interleaved (round 1
   *     warms up with {@code warmup}, later rounds with at most 10); every series pools its repeats
   *     over the rounds
   * @param gloo whether to run the gloo reference when a {@code python3} with {@code torch} is
   *     found
   */
  public record Options(
      int workers,
      double mbytes,
      int warmup,
      int repeats,
      int chunkBytes,
      int rounds,
      boolean gloo,
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
      if (rounds < 1) {
        throw new IllegalArgumentException("--rounds must be >= 1, got " + rounds);
      }
      jvmOptions = List.copyOf(jvmOptions);
    }

    /**
     * 100 warm-up and 30 timed all-reduces in chunks of the default size, one round, gloo when
     * present. Fewer warm-ups leave the JIT compiling during the timed repeats: measured CPU per 64
     * MiB all-reduce was 0.58 s after 20 warm-ups, 0.36 s after 60, 0.28 s after 100, 0.27 s after
     * 200.
     */
    public static Options of(int workers, double mbytes) {
      return new Options(
          workers, mbytes, 100, 30, RingAllReduce.DEFAULT_CHUNK_BYTES, 1, true, List.of());
    }

    public Options withRepeats(int warmup, int repeats) {
      return new Options(workers, mbytes, warmup, repeats, chunkBytes, rounds, gloo, jvmOptions);
    }

    public Options withChunkBytes(int chunkBytes) {
      return new Options(workers, mbytes, warmup, repeats, chunkBytes, rounds, gloo, jvmOptions);
    }

    public Options withRounds(int rounds) {
      return new Options(workers, mbytes, warmup, repeats, chunkBytes, rounds, gloo, jvmOptions);
    }

    public Options withGloo(boolean gloo) {
      return new Options(workers, mbytes, warmup, repeats, chunkBytes, rounds, gloo, jvmOptions);
    }

    public Options withJvmOptions(List<String> jvmOptions) {
      return new Options(workers, mbytes, warmup, repeats, chunkBytes, rounds, gloo, jvmOptions);
    }
  }

  /**
   * The measurement; bandwidths in Gb/s (10^9 bits per second), times in seconds. The unprefixed
   * fields are the fp32 gRPC ring. {@code bf16*}: the same ring with bf16 payloads, its bandwidth
   * counted in the float32 gradient bytes it averages (the effective bandwidth a training step
   * sees). The {@code plain*} fields are the reference ring over plain sockets ({@link
   * PlainSocketRing}: the same schedule and chunks, fp32, no gRPC). {@code gloo*}: {@code
   * torch.distributed}'s gloo all_reduce between as many Python processes ({@link GlooReference}),
   * NaN when it did not run ({@code python} null). All timed the same way in the same run.
   */
  public record Result(
      int workers,
      double mbytes,
      int chunkBytes,
      int warmup,
      int repeats,
      int rounds,
      double medianSeconds,
      double algbwGbps,
      double busbwGbps,
      double loopbackGbps,
      double ratio,
      double loopbackBeforeGbps,
      double loopbackAfterGbps,
      double cpuSecondsPerAllReduce,
      double[] seconds,
      double bf16MedianSeconds,
      double bf16EffectiveBusbwGbps,
      double bf16CpuSecondsPerAllReduce,
      double plainMedianSeconds,
      double plainBusbwGbps,
      double plainRatio,
      double plainCpuSecondsPerAllReduce,
      double tlsMedianSeconds,
      double tlsBusbwGbps,
      double tlsCpuSecondsPerAllReduce,
      String python,
      double glooMedianSeconds,
      double glooBusbwGbps,
      double glooCpuSecondsPerAllReduce) {}

  private static final int TCP_WARMUP = 5;
  private static final int TCP_REPEATS = 15;
  private static final long STEP_TIMEOUT_MS = 60_000;

  private AllReduceBenchmark() {}

  /** Spawns the workers, measures, and stops them; {@code progress} gets one line per phase. */
  public static Result run(Options o, Consumer<String> progress) {
    long bytes = (long) (o.mbytes() * (1 << 20)) / 4 * 4;
    int elements = (int) (bytes / 4);
    List<RingWorkerProcess> workers = new ArrayList<>();
    GlooReference gloo = null;
    try {
      progress.accept("starting " + o.workers() + " worker processes");
      for (int r = 0; r < o.workers(); r++) {
        workers.add(RingWorkerProcess.start("rank" + r, o.jvmOptions()));
      }
      List<String> peers = new ArrayList<>();
      for (RingWorkerProcess w : workers) {
        peers.add("127.0.0.1:" + w.expect("PORT", 60, TimeUnit.SECONDS));
      }
      Optional<String> python = o.gloo() ? GlooReference.findPython() : Optional.empty();
      if (python.isPresent()) {
        progress.accept(
            "starting " + o.workers() + " gloo ranks (torch.distributed) with " + python.get());
        gloo = GlooReference.start(python.get(), o.workers());
      } else if (o.gloo()) {
        progress.accept(
            "no gloo reference: no python3 with torch found (tried "
                + String.join(", ", GlooReference.candidates())
                + "; Debian: apt-get install python3-torch, or set SCOREFLOW_PYTHON)");
      }

      progress.accept("raw TCP between two workers");
      workers.get(1).send("TCP_SERVE");
      String tcpPort = workers.get(1).expect("TCP_PORT", 30, TimeUnit.SECONDS);
      double tcpBefore = tcpGbps(workers.get(0), tcpPort, bytes);

      long wait = STEP_TIMEOUT_MS * (o.warmup() + o.repeats()) + 60_000;
      List<Timed> fp32 = new ArrayList<>();
      List<Timed> bf16 = new ArrayList<>();
      List<Timed> glooRounds = new ArrayList<>();
      long generation = 0;
      for (int round = 1; round <= o.rounds(); round++) {
        int warmup = round == 1 ? o.warmup() : Math.min(o.warmup(), 10);
        String of =
            String.format(
                Locale.ROOT,
                "%s: %d warm-up and %d timed all-reduces of %.4g MB",
                o.rounds() > 1 ? " (round " + round + " of " + o.rounds() + ")" : "",
                warmup,
                o.repeats(),
                o.mbytes());
        for (WireEncoding encoding : WireEncoding.values()) {
          progress.accept("gRPC ring, " + encoding.name().toLowerCase(Locale.ROOT) + of);
          ring(workers, peers, ++generation, o.chunkBytes(), encoding);
          for (RingWorkerProcess w : workers) {
            w.send("BENCH " + elements + " " + warmup + " " + o.repeats() + " 0");
          }
          (encoding == WireEncoding.FP32 ? fp32 : bf16).add(collect(workers, o.repeats(), wait));
        }
        if (gloo != null) {
          progress.accept("gloo all_reduce (torch.distributed)" + of);
          glooRounds.add(collect(gloo.bench(elements, warmup, o.repeats()), o.repeats(), wait));
        }
      }
      ring(workers, peers, ++generation, o.chunkBytes(), WireEncoding.FP32);
      Timed grpc = Timed.pooled(fp32);
      Timed half = Timed.pooled(bf16);
      Timed glooTimed = glooRounds.isEmpty() ? null : Timed.pooled(glooRounds);

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
      int timed = o.repeats() * o.rounds();
      return new Result(
          o.workers(),
          o.mbytes(),
          o.chunkBytes(),
          o.warmup(),
          o.repeats(),
          o.rounds(),
          grpc.medianSeconds(),
          bytes * 8 / grpc.medianSeconds() / 1e9,
          busbw,
          loopback,
          busbw / loopback,
          tcpBefore,
          tcpAfter,
          grpc.cpuSeconds() / timed,
          grpc.seconds(),
          half.medianSeconds(),
          busbwGbps(bytes, o.workers(), half.medianSeconds()),
          half.cpuSeconds() / timed,
          plain.medianSeconds(),
          plainBusbw,
          plainBusbw / loopback,
          plain.cpuSeconds() / o.repeats(),
          tls.medianSeconds(),
          busbwGbps(bytes, o.workers(), tls.medianSeconds()),
          tls.cpuSeconds() / o.repeats(),
          python.orElse(null),
          glooTimed == null ? Double.NaN : glooTimed.medianSeconds(),
          glooTimed == null ? Double.NaN : busbwGbps(bytes, o.workers(), glooTimed.medianSeconds()),
          glooTimed == null ? Double.NaN : glooTimed.cpuSeconds() / timed);
    } finally {
      if (gloo != null) {
        gloo.close();
      }
      for (RingWorkerProcess w : workers) {
        w.close();
      }
    }
  }

  /** Every worker joins a new generation of the plaintext ring with {@code encoding}. */
  private static void ring(
      List<RingWorkerProcess> workers,
      List<String> peers,
      long generation,
      int chunkBytes,
      WireEncoding encoding) {
    for (int r = 0; r < workers.size(); r++) {
      workers
          .get(r)
          .send(
              String.join(
                  " ",
                  "RING",
                  "bench",
                  Long.toString(generation),
                  Integer.toString(r),
                  String.join(",", peers),
                  Integer.toString(chunkBytes),
                  encoding.name(),
                  Long.toString(STEP_TIMEOUT_MS)));
    }
    for (RingWorkerProcess w : workers) {
      w.expect("READY", 60, TimeUnit.SECONDS);
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
                    WireEncoding.FP32.name(),
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

    /** The repeats of every round as one series. */
    static Timed pooled(List<Timed> rounds) {
      double[] all = rounds.stream().flatMapToDouble(t -> Arrays.stream(t.seconds())).toArray();
      return new Timed(all, rounds.stream().mapToDouble(Timed::cpuSeconds).sum());
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
