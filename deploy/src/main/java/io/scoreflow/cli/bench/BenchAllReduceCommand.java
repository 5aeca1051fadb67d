package io.scoreflow.cli.bench;

import io.scoreflow.InvalidInputException;
import io.scoreflow.bench.AllReduceBenchmark;
import io.scoreflow.cli.output.Json;
import io.scoreflow.worker.exchange.ring.RingEndpoint;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code scoreflow bench allreduce}: the ring's bus bandwidth against raw loopback TCP. */
@Command(
    name = "allreduce",
    mixinStandardHelpOptions = true,
    description = {
      "Starts N worker processes on loopback, times MEAN all-reduces of an S MB float32 buffer"
          + " through the gRPC ring (medians after warm-up) and, in the same run, the raw TCP"
          + " bandwidth between two of the same processes (one stream, before and after; the"
          + " higher counts), and as a reference the same ring schedule over plain sockets"
          + " (fp32, no gRPC).",
      "busbw_gbps = algbw x 2(N-1)/N; ratio = busbw_gbps / loopback_gbps; plain_ring_* the"
          + " same for the plain-socket ring; grpc_over_plain = busbw_gbps /"
          + " plain_ring_busbw_gbps; tls_ring_* the gRPC ring over mutual TLS, as jobs run it;"
          + " tls_over_plaintext = tls_ring_busbw_gbps / busbw_gbps (the cost of TLS).",
      "The ring runs with fp32 and with bf16 payloads (bf16_effective_busbw_gbps: counted in"
          + " the fp32 bytes averaged); where a python3 with torch is found (SCOREFLOW_PYTHON,"
          + " python3, /usr/bin/python3), torch.distributed's gloo all_reduce between as many"
          + " processes, interleaved round by round: grpc_over_gloo, bf16_effective_over_gloo."
    })
public final class BenchAllReduceCommand implements Callable<Integer> {

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--workers", paramLabel = "N", description = "Ring size, >= 2 (default 3).")
  int workers = 3;

  @Option(
      names = "--mbytes",
      paramLabel = "S",
      description = "Buffer size in MiB of float32 (default 64).")
  double mbytes = 64;

  @Option(
      names = "--rounds",
      paramLabel = "R",
      description =
          "Rounds of the fp32 ring, the bf16 ring and gloo, interleaved (default 1); each series"
              + " pools its repeats over the rounds.")
  int rounds = 1;

  @Option(
      names = "--no-gloo",
      description = "Skip the torch.distributed gloo reference even where python3 has torch.")
  boolean noGloo;

  @Option(
      names = "--chunk-bytes",
      paramLabel = "B",
      description = "Chunk payload in bytes (default 1 MiB).")
  Integer chunkBytes;

  @Option(
      names = "--warmup",
      paramLabel = "N",
      description = "Untimed all-reduces (default 100: the JIT settles late).")
  Integer warmup;

  @Option(names = "--repeats", paramLabel = "N", description = "Timed all-reduces (default 30).")
  Integer repeats;

  @Option(names = "--json", description = "Print JSON.")
  boolean json;

  @Override
  public Integer call() {
    AllReduceBenchmark.Options o = options();
    PrintWriter err = spec.commandLine().getErr();
    AllReduceBenchmark.Result r =
        AllReduceBenchmark.run(
            o,
            line -> {
              err.println("bench allreduce: " + line);
              err.flush();
            });
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("workers", r.workers());
      m.put("mbytes", r.mbytes());
      m.put("chunk_bytes", r.chunkBytes());
      m.put("warmup", r.warmup());
      m.put("repeats", r.repeats());
      m.put("rounds", r.rounds());
      m.put("median_seconds", r.medianSeconds());
      m.put("algbw_gbps", r.algbwGbps());
      m.put("busbw_gbps", r.busbwGbps());
      m.put("loopback_gbps", r.loopbackGbps());
      m.put("ratio", r.ratio());
      m.put("loopback_before_gbps", r.loopbackBeforeGbps());
      m.put("loopback_after_gbps", r.loopbackAfterGbps());
      m.put("cpu_seconds_per_allreduce", r.cpuSecondsPerAllReduce());
      m.put("seconds", r.seconds());
      m.put("bf16_median_seconds", r.bf16MedianSeconds());
      m.put("bf16_effective_busbw_gbps", r.bf16EffectiveBusbwGbps());
      m.put("bf16_cpu_seconds_per_allreduce", r.bf16CpuSecondsPerAllReduce());
      m.put("bf16_over_fp32", r.bf16EffectiveBusbwGbps() / r.busbwGbps());
      m.put("plain_ring_median_seconds", r.plainMedianSeconds());
      m.put("plain_ring_busbw_gbps", r.plainBusbwGbps());
      m.put("plain_ring_ratio", r.plainRatio());
      m.put("plain_ring_cpu_seconds_per_allreduce", r.plainCpuSecondsPerAllReduce());
      m.put("grpc_over_plain", r.busbwGbps() / r.plainBusbwGbps());
      m.put("tls_ring_median_seconds", r.tlsMedianSeconds());
      m.put("tls_ring_busbw_gbps", r.tlsBusbwGbps());
      m.put("tls_ring_cpu_seconds_per_allreduce", r.tlsCpuSecondsPerAllReduce());
      m.put("tls_over_plaintext", r.tlsBusbwGbps() / r.busbwGbps());
      boolean gloo = r.python() != null;
      m.put("gloo_python", r.python());
      m.put("gloo_median_seconds", gloo ? r.glooMedianSeconds() : null);
      m.put("gloo_busbw_gbps", gloo ? r.glooBusbwGbps() : null);
      m.put("gloo_cpu_seconds_per_allreduce", gloo ? r.glooCpuSecondsPerAllReduce() : null);
      m.put("grpc_over_gloo", gloo ? r.busbwGbps() / r.glooBusbwGbps() : null);
      m.put(
          "bf16_effective_over_gloo", gloo ? r.bf16EffectiveBusbwGbps() / r.glooBusbwGbps() : null);
      Json.print(out, m);
      return 0;
    }
    out.printf(
        Locale.ROOT,
        "%d workers, %s MB fp32: median %.1f ms, busbw %.2f Gb/s; raw TCP %.2f Gb/s;"
            + " busbw/TCP %.3f; %.2f CPU s per all-reduce (all workers); bf16 on the wire: %.2f"
            + " Gb/s of fp32 gradient (%.2fx fp32); the same ring over plain sockets: busbw %.2f"
            + " Gb/s, busbw/TCP %.3f, %.2f CPU s; the ring over mutual TLS: busbw %.2f Gb/s (%.3f"
            + " of plaintext), %.2f CPU s%n",
        r.workers(),
        r.mbytes(),
        r.medianSeconds() * 1e3,
        r.busbwGbps(),
        r.loopbackGbps(),
        r.ratio(),
        r.cpuSecondsPerAllReduce(),
        r.bf16EffectiveBusbwGbps(),
        r.bf16EffectiveBusbwGbps() / r.busbwGbps(),
        r.plainBusbwGbps(),
        r.plainRatio(),
        r.plainCpuSecondsPerAllReduce(),
        r.tlsBusbwGbps(),
        r.tlsBusbwGbps() / r.busbwGbps(),
        r.tlsCpuSecondsPerAllReduce());
    if (r.python() != null) {
      out.printf(
          Locale.ROOT,
          "gloo (torch.distributed): busbw %.2f Gb/s, %.2f CPU s; gRPC fp32 / gloo %.2f, bf16"
              + " effective / gloo %.2f%n",
          r.glooBusbwGbps(),
          r.glooCpuSecondsPerAllReduce(),
          r.busbwGbps() / r.glooBusbwGbps(),
          r.bf16EffectiveBusbwGbps() / r.glooBusbwGbps());
    }
    return 0;
  }

  private AllReduceBenchmark.Options options() {
    InvalidInputException.require(workers >= 2, "--workers must be >= 2, got %s", workers);
    InvalidInputException.require(
        mbytes > 0 && mbytes <= 4096, "--mbytes must be in (0, 4096], got %s", mbytes);
    AllReduceBenchmark.Options o = AllReduceBenchmark.Options.of(workers, mbytes);
    if (warmup != null || repeats != null) {
      int w = warmup != null ? warmup : o.warmup();
      int n = repeats != null ? repeats : o.repeats();
      InvalidInputException.require(w >= 0, "--warmup must be >= 0, got %s", w);
      InvalidInputException.require(n >= 1, "--repeats must be >= 1, got %s", n);
      o = o.withRepeats(w, n);
    }
    if (chunkBytes != null) {
      InvalidInputException.require(
          chunkBytes >= 4
              && chunkBytes % 4 == 0
              && chunkBytes <= RingEndpoint.DEFAULT_MAX_CHUNK_BYTES,
          "--chunk-bytes must be a multiple of 4 in [4, %s], got %s",
          RingEndpoint.DEFAULT_MAX_CHUNK_BYTES,
          chunkBytes);
      o = o.withChunkBytes(chunkBytes);
    }
    InvalidInputException.require(rounds >= 1, "--rounds must be >= 1, got %s", rounds);
    return o.withRounds(rounds).withGloo(!noGloo);
  }
}
