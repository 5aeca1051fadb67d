package io.scoreflow.collective;

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

  /** The measurement; bandwidths in Gb/s (10^9 bits per second), times in seconds. */
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
      double[] seconds) {

    /** The JSON object that {@code --json} prints. */
    public String toJson() {
      StringBuilder times = new StringBuilder();
      for (double s : seconds) {
        times.append(times.length() == 0 ? "" : ", ").append(fmt(s));
      }
      return String.format(
          Locale.ROOT,
          "{\"workers\": %d, \"mbytes\": %s, \"encoding\": \"%s\", \"chunk_bytes\": %d,"
              + " \"warmup\": %d, \"repeats\": %d, \"median_seconds\": %s, \"algbw_gbps\": %s,"
              + " \"busbw_gbps\": %s, \"loopback_gbps\": %s, \"ratio\": %s,"
              + " \"loopback_before_gbps\": %s, \"loopback_after_gbps\": %s,"
              + " \"cpu_seconds_per_allreduce\": %s, \"seconds\": [%s]}",
          workers,
          fmt(mbytes),
          encoding,
          chunkBytes,
          warmup,
          repeats,
          fmt(medianSeconds),
          fmt(algbwGbps),
          fmt(busbwGbps),
          fmt(loopbackGbps),
          fmt(ratio),
          fmt(loopbackBeforeGbps),
          fmt(loopbackAfterGbps),
          fmt(cpuSecondsPerAllReduce),
          times);
    }

    private static String fmt(double v) {
      return String.format(Locale.ROOT, "%.4g", v);
    }
  }

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
              "%d warm-up and %d timed all-reduces of %s MB",
              o.warmup(),
              o.repeats(),
              Result.fmt(o.mbytes())));
      for (RingWorkerProcess w : workers) {
        w.send("BENCH " + elements + " " + o.warmup() + " " + o.repeats() + " 0");
      }
      long[][] perRank = new long[o.workers()][];
      long wait = STEP_TIMEOUT_MS * (o.warmup() + o.repeats()) + 60_000;
      long cpuNanos = 0;
      for (int r = 0; r < o.workers(); r++) {
        String[] answer = workers.get(r).expect("TIMES", wait, TimeUnit.MILLISECONDS).split(" ");
        perRank[r] = parse(answer[0]);
        cpuNanos += Long.parseLong(answer[1]);
      }

      progress.accept("raw TCP again");
      double tcpAfter = tcpGbps(workers.get(0), tcpPort, bytes);

      double[] seconds = new double[o.repeats()];
      for (int i = 0; i < o.repeats(); i++) {
        long slowest = 0;
        for (long[] rank : perRank) {
          slowest = Math.max(slowest, rank[i]);
        }
        seconds[i] = slowest / 1e9;
      }
      double median = median(seconds);
      double algbw = bytes * 8 / median / 1e9;
      double busbw = algbw * 2 * (o.workers() - 1) / o.workers();
      double loopback = Math.max(tcpBefore, tcpAfter);
      return new Result(
          o.workers(),
          o.mbytes(),
          o.encoding().name(),
          o.chunkBytes(),
          o.warmup(),
          o.repeats(),
          median,
          algbw,
          busbw,
          loopback,
          busbw / loopback,
          tcpBefore,
          tcpAfter,
          cpuNanos / 1e9 / o.repeats(),
          seconds);
    } finally {
      for (RingWorkerProcess w : workers) {
        w.close();
      }
    }
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

  /**
   * {@code java ... AllReduceBenchmark --workers N --mbytes S [--warmup W] [--repeats R]
   * [--chunk-bytes B] [--encoding FP32|BF16] [--json]}; the CLI's {@code bench allreduce} calls
   * {@link #run} directly.
   */
  public static void main(String[] args) {
    int workers = 3;
    double mbytes = 64;
    Options defaults = Options.of(workers, mbytes);
    int warmup = defaults.warmup();
    int repeats = defaults.repeats();
    int chunkBytes = defaults.chunkBytes();
    WireEncoding encoding = defaults.encoding();
    boolean json = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--workers" -> workers = Integer.parseInt(args[++i]);
        case "--mbytes" -> mbytes = Double.parseDouble(args[++i]);
        case "--warmup" -> warmup = Integer.parseInt(args[++i]);
        case "--repeats" -> repeats = Integer.parseInt(args[++i]);
        case "--chunk-bytes" -> chunkBytes = Integer.parseInt(args[++i]);
        case "--encoding" -> encoding = WireEncoding.valueOf(args[++i].toUpperCase(Locale.ROOT));
        case "--json" -> json = true;
        default -> throw new IllegalArgumentException("unknown option: " + args[i]);
      }
    }
    Options o = new Options(workers, mbytes, warmup, repeats, chunkBytes, encoding, List.of());
    Result r = run(o, line -> System.err.println("bench allreduce: " + line));
    if (json) {
      System.out.println(r.toJson());
    } else {
      System.out.printf(
          Locale.ROOT,
          "%d workers, %s MB %s: median %.1f ms, algbw %.2f Gb/s, busbw %.2f Gb/s;"
              + " raw TCP %.2f Gb/s (before %.2f, after %.2f); busbw/TCP %.3f;"
              + " %.2f CPU s per all-reduce (all workers)%n",
          r.workers(),
          Result.fmt(r.mbytes()),
          r.encoding(),
          r.medianSeconds() * 1e3,
          r.algbwGbps(),
          r.busbwGbps(),
          r.loopbackGbps(),
          r.loopbackBeforeGbps(),
          r.loopbackAfterGbps(),
          r.ratio(),
          r.cpuSecondsPerAllReduce());
    }
  }
}
