package io.scoreflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Prometheus (Debian's package) scrapes a real training process on loopback, and the
 * sample-quality series is read back through Prometheus' HTTP API.
 */
class PrometheusScrapeTest {

  private static final Path PROMETHEUS = Path.of("/usr/bin/prometheus");
  private static final Duration DEADLINE = Duration.ofSeconds(120);
  private static final Duration CLUSTER_DEADLINE = Duration.ofSeconds(300);

  @Test
  void prometheusScrapesTrainingAndQualityMetrics(@TempDir Path dir) throws Exception {
    assumeTrue(
        Files.isExecutable(PROMETHEUS),
        "Debian's prometheus is not installed (apt-get install prometheus); .ci/run installs it");
    int metricsPort = freePort();
    int prometheusPort = freePort();
    Path conf = dir.resolve("run.conf");
    Files.writeString(
        conf,
        """
        scoreflow {
          job.name = scrape-test
          model { arch = mlp, mlp { hidden = 32, layers = 2 } }
          data { source = gaussian, random-flip = false, gaussian { dim = 4, mean = 1.0, std = 0.5, size = 4096 } }
          train { batch-size = 32, optim { lr = 1e-3, warmup = 5 }, log-every = 100, checkpoint-every = 500 }
          eval { every = 100, samples = 500, steps = 50 }
        }
        """);
    Path promConf = dir.resolve("prometheus.yml");
    Files.writeString(
        promConf,
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: scoreflow\n"
            + "    static_configs:\n      - targets: ['127.0.0.1:"
            + metricsPort
            + "']\n");
    ProcessBuilder train =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dai.djl.offline=true",
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName(),
                "train",
                conf.toString(),
                "--steps",
                "1000000",
                "--out",
                dir.resolve("run").toString(),
                "--metrics-port",
                Integer.toString(metricsPort))
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("train.log").toFile());
    train.environment().put("OMP_WAIT_POLICY", "PASSIVE");
    ProcessBuilder prometheus =
        new ProcessBuilder(
                PROMETHEUS.toString(),
                "--config.file=" + promConf,
                "--storage.tsdb.path=" + dir.resolve("tsdb"),
                "--web.listen-address=127.0.0.1:" + prometheusPort)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("prometheus.log").toFile());
    Process trainer = train.start();
    Process server = prometheus.start();
    try {
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
      long end = System.nanoTime() + DEADLINE.toNanos();
      Double w2 = null;
      Double step = null;
      // Poll until the quality series shows a trained model: it starts far off (W2 ~ 30 at step
      // 100) and falls below 0.5 within a few thousand MLP steps, so this also shows the series is
      // updated as training goes on, not written once.
      while (System.nanoTime() < end && (w2 == null || step == null || w2 >= 0.5)) {
        assertTrue(trainer.isAlive(), () -> "training died: " + log(dir.resolve("train.log")));
        assertTrue(
            server.isAlive(), () -> "prometheus died: " + log(dir.resolve("prometheus.log")));
        w2 = query(http, prometheusPort, "scoreflow_eval_w2{run=\"scrape-test\"}");
        step = query(http, prometheusPort, "scoreflow_train_step{run=\"scrape-test\"}");
        Thread.sleep(1000);
      }
      if (w2 == null || step == null) {
        fail(
            "no series in Prometheus after "
                + DEADLINE
                + ": w2="
                + w2
                + " step="
                + step
                + "\n"
                + log(dir.resolve("prometheus.log"))
                + "\n"
                + log(dir.resolve("train.log")));
      }
      assertTrue(w2 > 0 && w2 < 0.5, "W2 read back through Prometheus: " + w2);
      assertTrue(step >= 100, "step read back through Prometheus: " + step);
    } finally {
      for (Process p : List.of(trainer, server)) {
        p.destroy();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      }
    }
  }

  /**
   * A local cluster ({@code train --workers 2}: a coordinator and two real worker processes) with
   * every node serving {@code /metrics}; Prometheus scrapes all three, and the W2 the evaluator
   * actor measured from a sampler actor's samples is read back, next to each worker's step.
   */
  @Test
  void prometheusScrapesALocalCluster(@TempDir Path dir) throws Exception {
    assumeTrue(
        Files.isExecutable(PROMETHEUS),
        "Debian's prometheus is not installed (apt-get install prometheus); .ci/run installs it");
    int metricsPort = freePorts(3);
    int prometheusPort = freePort();
    Path conf = dir.resolve("run.conf");
    Files.writeString(
        conf,
        """
        scoreflow {
          job.name = cluster-scrape
          model { arch = mlp, mlp { hidden = 32, layers = 2 } }
          data { source = gaussian, random-flip = false, gaussian { dim = 4, mean = 1.0, std = 0.5, size = 4096 } }
          train { batch-size = 32, optim { lr = 1e-3, warmup = 5 }, log-every = 100, checkpoint-every = 100 }
          eval { every = 100, samples = 500, steps = 50, poll = 1s }
          cluster { step-timeout = 10m }
        }
        """);
    Path promConf = dir.resolve("prometheus.yml");
    Files.writeString(
        promConf,
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: scoreflow\n"
            + "    static_configs:\n      - targets: ['127.0.0.1:"
            + metricsPort
            + "', '127.0.0.1:"
            + (metricsPort + 1)
            + "', '127.0.0.1:"
            + (metricsPort + 2)
            + "']\n");
    ProcessBuilder train =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dai.djl.offline=true",
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName(),
                "train",
                conf.toString(),
                "--workers",
                "2",
                "--steps",
                "1000000",
                "--out",
                dir.resolve("run").toString(),
                "--metrics-port",
                Integer.toString(metricsPort))
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("train.log").toFile());
    train.environment().put("OMP_WAIT_POLICY", "PASSIVE");
    ProcessBuilder prometheus =
        new ProcessBuilder(
                PROMETHEUS.toString(),
                "--config.file=" + promConf,
                "--storage.tsdb.path=" + dir.resolve("tsdb"),
                "--web.listen-address=127.0.0.1:" + prometheusPort)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("prometheus.log").toFile());
    Process launcher = train.start();
    Process server = prometheus.start();
    List<ProcessHandle> workers = new java.util.ArrayList<>();
    try {
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
      long end = System.nanoTime() + CLUSTER_DEADLINE.toNanos();
      Double w2 = null;
      Double rank1Step = null;
      Double up = null;
      Double ringSize = null;
      while (System.nanoTime() < end
          && (w2 == null
              || w2 >= 0.5
              || rank1Step == null
              || up == null
              || up < 3
              || ringSize == null)) {
        launcher.descendants().filter(p -> !workers.contains(p)).forEach(workers::add);
        assertTrue(launcher.isAlive(), () -> "the cluster died: " + log(dir.resolve("train.log")));
        assertTrue(
            server.isAlive(), () -> "prometheus died: " + log(dir.resolve("prometheus.log")));
        w2 = query(http, prometheusPort, "scoreflow_eval_w2{run=\"cluster-scrape\"}");
        rank1Step =
            query(http, prometheusPort, "scoreflow_train_step{run=\"cluster-scrape\",rank=\"1\"}");
        up = query(http, prometheusPort, "sum(up{job=\"scoreflow\"})");
        ringSize = query(http, prometheusPort, "scoreflow_cluster_workers{run=\"cluster-scrape\"}");
        Thread.sleep(1000);
      }
      if (w2 == null || rank1Step == null || up == null || up < 3 || ringSize == null) {
        fail(
            "series missing in Prometheus after "
                + CLUSTER_DEADLINE
                + ": w2="
                + w2
                + " rank-1 step="
                + rank1Step
                + " targets up="
                + up
                + " workers="
                + ringSize
                + "\n"
                + log(dir.resolve("prometheus.log"))
                + "\n"
                + log(dir.resolve("train.log")));
      }
      // Polled until the series shows a trained model (as in the single-process test: far off at
      // the first checkpoints, below 0.5 within a few thousand steps), so the series is updated
      // checkpoint after checkpoint, not written once.
      assertTrue(w2 > 0 && w2 < 0.5, "W2 read back through Prometheus: " + w2);
      assertTrue(rank1Step >= 1, "rank 1's step read back through Prometheus: " + rank1Step);
      assertEquals(2.0, ringSize, "workers in the ring, from the coordinator's /metrics");
      assertEquals(3.0, up, "coordinator and both workers scraped");
    } finally {
      launcher.descendants().filter(p -> !workers.contains(p)).forEach(workers::add);
      launcher.destroy();
      if (!launcher.waitFor(10, TimeUnit.SECONDS)) {
        launcher.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
      for (ProcessHandle w : workers) {
        w.destroy();
      }
      for (ProcessHandle w : workers) {
        try {
          w.onExit().get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
          w.destroyForcibly();
        }
      }
      server.destroy();
      if (!server.waitFor(10, TimeUnit.SECONDS)) {
        server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  /** A port P with P, P+1, ..., P+n-1 all free (the cluster's metrics ports). */
  private static int freePorts(int n) throws IOException {
    for (int attempt = 0; attempt < 50; attempt++) {
      int base = freePort();
      if (base + n > 65535) {
        continue;
      }
      boolean free = true;
      for (int k = 1; k < n && free; k++) {
        try (ServerSocket s = new ServerSocket(base + k)) {
          free = true;
        } catch (IOException e) {
          free = false;
        }
      }
      if (free) {
        return base;
      }
    }
    throw new IOException("no run of " + n + " free ports found");
  }

  /** The value of the first series of an instant query, or null when there is none yet. */
  private static Double query(HttpClient http, int port, String promql) {
    try {
      URI uri =
          URI.create(
              "http://127.0.0.1:"
                  + port
                  + "/api/v1/query?query="
                  + URLEncoder.encode(promql, StandardCharsets.UTF_8));
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).GET().build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        return null;
      }
      JsonNode result = new ObjectMapper().readTree(r.body()).path("data").path("result");
      if (!result.isArray() || result.isEmpty()) {
        return null;
      }
      return result.get(0).path("value").get(1).asDouble();
    } catch (IOException e) {
      return null; // Prometheus not listening yet
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static String log(Path file) {
    try {
      String text = Files.readString(file);
      return text.length() > 3000 ? text.substring(text.length() - 3000) : text;
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }
}
