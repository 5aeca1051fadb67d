package io.scoreflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bench allreduce} and {@code bench scaling} as a user runs them: real worker processes on
 * loopback, JSON on stdout, progress on stderr, bad input as one line with exit code 2. The numbers
 * themselves depend on the machine; here only their consistency is checked.
 */
class BenchClusterCliTest {

  private static Set<String> keys(JsonNode j) {
    Set<String> keys = new TreeSet<>();
    j.fieldNames().forEachRemaining(keys::add);
    return keys;
  }

  private static void assertOneLineError(CliTest.Result r, String expected) {
    assertEquals(2, r.code(), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().startsWith("scoreflow: error: "), r.err());
    assertTrue(r.err().contains(expected), r.err());
    assertEquals("", r.out());
  }

  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void allReducePrintsBusBandwidthAgainstLoopbackMeasuredInTheSameRun() throws Exception {
    CliTest.Result r =
        CliTest.run(
            "bench",
            "allreduce",
            "--workers",
            "3",
            "--mbytes",
            "2",
            "--warmup",
            "3",
            "--repeats",
            "4",
            "--rounds",
            "2",
            "--json");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.err().contains("bench allreduce: raw TCP between two workers"), r.err());
    JsonNode j = r.json();
    assertTrue(
        keys(j).containsAll(Set.of("busbw_gbps", "loopback_gbps", "ratio", "algbw_gbps")),
        keys(j).toString());
    assertEquals(3, j.get("workers").asInt());
    // Two rounds of 4 repeats, pooled.
    assertEquals(8, j.get("seconds").size());
    double busbw = j.get("busbw_gbps").asDouble();
    double loopback = j.get("loopback_gbps").asDouble();
    assertTrue(busbw > 0 && loopback > 0, j.toString());
    // Bus bandwidth is algbw x 2(n-1)/n, and the ratio is against the loopback of the same run.
    assertEquals(j.get("algbw_gbps").asDouble() * 4 / 3, busbw, 1e-9 * busbw);
    assertEquals(busbw / loopback, j.get("ratio").asDouble(), 1e-9);
    assertEquals(
        Math.max(j.get("loopback_before_gbps").asDouble(), j.get("loopback_after_gbps").asDouble()),
        loopback,
        1e-12);
    // The plain-socket reference ring ran in the same run (its workers check every summed element
    // and fail the benchmark on a wrong one), and its numbers follow the same definitions.
    assertTrue(r.err().contains("the same ring over plain sockets (reference)"), r.err());
    double plain = j.get("plain_ring_busbw_gbps").asDouble();
    assertTrue(
        plain > 0 && j.get("plain_ring_cpu_seconds_per_allreduce").asDouble() > 0, j.toString());
    assertEquals(
        2.0 * (1 << 20) * 8 / j.get("plain_ring_median_seconds").asDouble() / 1e9 * 4 / 3,
        plain,
        1e-9 * plain);
    assertEquals(plain / loopback, j.get("plain_ring_ratio").asDouble(), 1e-9);
    assertEquals(busbw / plain, j.get("grpc_over_plain").asDouble(), 1e-9);
    // The same gRPC ring over mutual TLS (a CA of the run's own), in the same run: the cost of
    // TLS as a ratio. BENCH checks every element there too.
    assertTrue(r.err().contains("the gRPC ring over mutual TLS"), r.err());
    double tls = j.get("tls_ring_busbw_gbps").asDouble();
    assertTrue(tls > 0 && j.get("tls_ring_cpu_seconds_per_allreduce").asDouble() > 0, j.toString());
    assertEquals(
        2.0 * (1 << 20) * 8 / j.get("tls_ring_median_seconds").asDouble() / 1e9 * 4 / 3,
        tls,
        1e-9 * tls);
    assertEquals(tls / busbw, j.get("tls_over_plaintext").asDouble(), 1e-9);
    // The bf16 ring ran in the same rounds; its bandwidth counts the fp32 bytes it averaged.
    assertTrue(r.err().contains("gRPC ring, bf16 (round 2 of 2)"), r.err());
    double bf16 = j.get("bf16_effective_busbw_gbps").asDouble();
    assertEquals(
        2.0 * (1 << 20) * 8 / j.get("bf16_median_seconds").asDouble() / 1e9 * 4 / 3,
        bf16,
        1e-9 * bf16);
    assertEquals(bf16 / busbw, j.get("bf16_over_fp32").asDouble(), 1e-9);
    // gloo where this machine's python3 has torch (Debian's python3-torch), said so where not.
    if (j.get("gloo_python").isNull()) {
      assertTrue(r.err().contains("no gloo reference: no python3 with torch found"), r.err());
      assertTrue(j.get("grpc_over_gloo").isNull(), j.toString());
    } else {
      assertTrue(r.err().contains("gloo all_reduce (torch.distributed) (round 2 of 2)"), r.err());
      double gloo = j.get("gloo_busbw_gbps").asDouble();
      assertEquals(
          2.0 * (1 << 20) * 8 / j.get("gloo_median_seconds").asDouble() / 1e9 * 4 / 3,
          gloo,
          1e-9 * gloo);
      assertEquals(busbw / gloo, j.get("grpc_over_gloo").asDouble(), 1e-9);
      assertEquals(bf16 / gloo, j.get("bf16_effective_over_gloo").asDouble(), 1e-9);
    }
  }

  @Test
  void allReduceRefusesBadInputInOneLine() {
    assertOneLineError(
        CliTest.run("bench", "allreduce", "--workers", "1", "--json"), "--workers must be >= 2");
    assertOneLineError(
        CliTest.run("bench", "allreduce", "--mbytes", "0"), "--mbytes must be in (0, 4096]");
    assertOneLineError(CliTest.run("bench", "allreduce", "--mbytes", "lots"), "--mbytes");
    assertOneLineError(
        CliTest.run("bench", "allreduce", "--chunk-bytes", "6"), "--chunk-bytes must be");
    assertOneLineError(CliTest.run("bench", "allreduce", "--repeats", "0"), "--repeats must be");
  }

  /** The small MLP on Gaussian data: the scaling machinery, not the U-Net's speed, is tested. */
  private static Path mlpConfig(Path dir) throws Exception {
    Path conf = dir.resolve("mlp.conf");
    Files.writeString(
        conf,
        """
        scoreflow {
          job.name = mlp-scaling
          sde.name = vp-linear
          model { arch = mlp, mlp { hidden = 32, layers = 2 } }
          data { source = gaussian, random-flip = false, gaussian { dim = 4, size = 4096 } }
          train { batch-size = 24, log-every = 1000 }
          cluster { form-timeout = 120s, step-timeout = 120s }
        }
        """);
    return conf;
  }

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void scalingReportsImagesPerSecondOfRealClustersAgainstTheFirstCount(@TempDir Path dir)
      throws Exception {
    CliTest.Result r =
        CliTest.run(
            "bench",
            "scaling",
            mlpConfig(dir).toString(),
            "--workers",
            "1,2",
            "--warmup-steps",
            "2",
            "--steps",
            "5",
            "--json");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.err().contains("bench scaling: 2 workers"), r.err());
    assertTrue(r.err().contains("ring of 2"), "progress of the runs on stderr: " + r.err());
    JsonNode j = r.json();
    assertEquals("ring", j.get("exchange").asText());
    assertEquals(1, j.get("baseline_workers").asInt());
    assertEquals(24, j.get("batch").asInt());
    JsonNode rows = j.get("results");
    assertEquals(2, rows.size());
    for (int k = 0; k < 2; k++) {
      JsonNode row = rows.get(k);
      assertEquals(List.of(1, 2).get(k), row.get("workers").asInt());
      double ips = row.get("images_per_second").asDouble();
      assertTrue(ips > 0, row.toString());
      assertEquals(24 / row.get("seconds_per_step").asDouble(), ips, 1e-6 * ips);
      assertEquals(
          ips / rows.get(0).get("images_per_second").asDouble(),
          row.get("speedup").asDouble(),
          1e-9);
    }
    assertEquals(1.0, rows.get(0).get("speedup").asDouble(), 0);
    for (JsonNode row : rows) {
      assertTrue(row.get("exchange_ms").asDouble() >= 0, row.toString());
    }
  }

  @Test
  void scalingRefusesBadInputInOneLine(@TempDir Path dir) throws Exception {
    String conf = mlpConfig(dir).toString();
    assertOneLineError(
        CliTest.run("bench", "scaling", conf, "--workers", "1,x"),
        "--workers must be a list of worker counts like 1,2,3, got '1,x'");
    assertOneLineError(
        CliTest.run("bench", "scaling", conf, "--workers", "0,2"), "must be in [1, 64], got 0");
    assertOneLineError(CliTest.run("bench", "scaling", conf, "--workers", "2,2"), "lists 2 twice");
    assertOneLineError(
        CliTest.run("bench", "scaling", conf, "--workers", "1,5"),
        "batch-size 24 is not divisible by 5 workers");
    assertOneLineError(
        CliTest.run("bench", "scaling", conf, "--steps", "0"), "--steps must be >= 1");
    assertOneLineError(
        CliTest.run("bench", "scaling", conf, "--set", "scoreflow.cluster.exchange=smoke"),
        "scoreflow.cluster.exchange must be ring or star, got 'smoke'");
  }

  /**
   * {@code bench convergence} on a short run: every mode trains and every checkpoint is measured,
   * the bytes follow each mode's exchange schedule (local:4 over 40 steps with checkpoints after
   * steps 19 and 39: 8 parameter exchanges plus 2 of parameters, moments and EMA, 16 vectors
   * against fp32's 40), and the chart is a PNG.
   */
  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void convergenceMeasuresEveryModeAtEqualSteps(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("conv");
    CliTest.Result r =
        CliTest.run(
            "bench",
            "convergence",
            "--steps",
            "40",
            "--eval-every",
            "20",
            "--modes",
            "fp32,local:4",
            "--samples",
            "200",
            "--sampler-steps",
            "20",
            "--out",
            out.toString(),
            "--json");
    assertEquals(0, r.code(), r.err());
    JsonNode j = r.json();
    assertEquals("w2", j.get("metric").asText());
    assertEquals(2, j.get("modes").size());
    for (JsonNode m : j.get("modes")) {
      assertEquals(List.of(20L, 40L), longs(m.get("eval_steps")), m.toString());
      for (JsonNode w2 : m.get("w2")) {
        assertTrue(w2.asDouble() > 0 && Double.isFinite(w2.asDouble()), m.toString());
      }
    }
    JsonNode fp32 = j.get("modes").get(0);
    JsonNode local = j.get("modes").get(1);
    long n = j.get("parameters").asLong();
    // Two ranks send 2(n-1)/n = 1 vector's worth of their own per exchange.
    assertEquals(4.0 * n, fp32.get("bytes_per_step_per_rank").asDouble(), 1e-9 * n);
    assertEquals(0.4, local.get("bytes_over_fp32").asDouble(), 1e-12);
    assertEquals(1.0, fp32.get("final_w2_over_fp32").asDouble(), 0);
    byte[] png = Files.readAllBytes(out.resolve("convergence.png"));
    assertTrue(png.length > 1000 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G');

    assertOneLineError(
        CliTest.run(
            "bench", "convergence", "--modes", "fp16", "--out", dir.resolve("x").toString()),
        "--modes: 'fp16' is not one of");
    assertOneLineError(
        CliTest.run("bench", "convergence", "--out", out.toString()), "already exists");
  }

  /**
   * {@code bench network}: hosts in network namespaces behind throttled cables (skipped where the
   * kernel refuses namespaces), each mode trained across them with the real commands; bf16 halves
   * the bytes, every timing is positive, and the exposed exchange is the step time less compute and
   * optimizer.
   */
  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void networkTrainsEveryModeAcrossThrottledHosts(@TempDir Path dir) throws Exception {
    Path conf = dir.resolve("mlp.conf");
    Files.writeString(
        conf,
        """
        scoreflow {
          job.name = bench-network
          model { arch = mlp, mlp { hidden = 32, layers = 2 } }
          data { source = gaussian, random-flip = false, gaussian { dim = 4, mean = 1.0, std = 0.5, size = 4096 } }
          train { batch-size = 16 }
          cluster { form-timeout = 120s, step-timeout = 120s }
        }
        """);
    CliTest.Result r =
        CliTest.run(
            "bench",
            "network",
            conf.toString(),
            "--rate",
            "200mbit",
            "--steps",
            "4",
            "--warmup-steps",
            "2",
            "--modes",
            "fp32,bf16,local:2",
            "--json");
    org.junit.jupiter.api.Assumptions.assumeFalse(
        r.code() == 2 && r.err().contains("refuses network namespaces"), r.err());
    assertEquals(0, r.code(), r.err());
    JsonNode j = r.json();
    assertEquals(3, j.get("modes").size());
    for (JsonNode m : j.get("modes")) {
      assertTrue(
          m.get("step_ms").asDouble() > 0 && m.get("compute_ms").asDouble() > 0, m.toString());
      assertEquals(
          Math.max(
              0,
              m.get("step_ms").asDouble()
                  - m.get("compute_ms").asDouble()
                  - m.get("optimizer_ms").asDouble()),
          m.get("exposed_exchange_ms").asDouble(),
          1e-9);
    }
    assertEquals(0.5, j.get("modes").get(1).get("bytes_over_first").asDouble(), 1e-12);
    assertEquals(0.5, j.get("modes").get(2).get("steady_bytes_over_first").asDouble(), 1e-12);
    assertOneLineError(
        CliTest.run("bench", "network", "--rate", "fast"), "--rate must be like 1gbit");
  }

  private static List<Long> longs(JsonNode array) {
    List<Long> out = new java.util.ArrayList<>();
    array.forEach(v -> out.add(v.asLong()));
    return out;
  }
}
