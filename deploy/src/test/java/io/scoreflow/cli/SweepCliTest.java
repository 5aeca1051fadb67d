package io.scoreflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.scoreflow.ckpt.CheckpointReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code scoreflow sweep} as a user runs it: four jobs on a pool of four real worker processes, two
 * workers a job (so two jobs queue), one worker killed with SIGKILL while its job trains; then the
 * jobs' own records (the coordinators' journals, the checkpoints) and the results table are read.
 */
class SweepCliTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int STEPS = 90;

  private static Path spec(Path dir) throws IOException {
    Path spec = dir.resolve("four.conf");
    Files.writeString(
        spec,
        """
        sweep {
          name = four
          steps = %d
          workers-per-job = 2
          base {
            scoreflow {
              sde.name = vp-linear
              model { arch = mlp, mlp { hidden = 32, layers = 2 } }
              data { source = gaussian, random-flip = false, gaussian { dim = 4, mean = 1.0, std = 0.5, size = 4096 } }
              train { batch-size = 16, log-every = 1, checkpoint-every = 20, keep-checkpoints = 100, optim { lr = 2e-3, warmup = 5 } }
              sample { sampler = euler-maruyama, steps = 10, count = 64 }
              cluster { form-timeout = 120s, step-timeout = 120s, regroup-timeout = 90s, max-restarts = 3 }
            }
          }
          grid { scoreflow.sde.name = [vp-linear, vp-exp, ve-exp, ve-constant] }
        }
        """
            .formatted(STEPS));
    return spec;
  }

  @AfterEach
  void killLeftovers() {
    ProcessHandle.current().descendants().forEach(ProcessHandle::destroyForcibly);
  }

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void fourJobsQueueOnAPoolOfFourSurviveAKilledWorkerAndAreNotRunTwice(@TempDir Path dir)
      throws Exception {
    Path spec = spec(dir);
    Path out = dir.resolve("out");
    int port = freePorts(5);
    CompletableFuture<CliTest.Result> sweep =
        CompletableFuture.supplyAsync(
            () ->
                CliTest.run(
                    "sweep",
                    spec.toString(),
                    "--workers",
                    "4",
                    "--out",
                    out.toString(),
                    "--metrics-port",
                    Integer.toString(port),
                    "--json"));
    // Wait until some job trains a ring of two, then kill the second worker of that ring.
    String victim = null;
    String victimJob = null;
    long until = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    while (victim == null) {
      assertTrue(System.nanoTime() < until, "no job reached step 30 in 5 minutes");
      assertTrue(!sweep.isDone(), () -> "the sweep ended early: " + sweep.join());
      for (String job : List.of("vp-linear", "vp-exp", "ve-exp", "ve-constant")) {
        List<JsonNode> journal = RunRecords.events(out.resolve(job).resolve("events.jsonl"), null);
        JsonNode ring = null;
        long newest = -1;
        for (JsonNode e : journal) {
          switch (e.get("event").asText()) {
            case "ring" -> ring = e;
            case "step" -> newest = Math.max(newest, e.get("step").asLong());
            case "finish" -> ring = null;
            default -> {}
          }
        }
        if (ring != null && newest >= 30 && newest < STEPS - 40) {
          victim = ring.get("workers").get(1).asText();
          victimJob = job;
          break;
        }
      }
      Thread.sleep(100);
    }
    // While it trains: the sweep's /metrics (its queue, each job's ring) and a worker's, the job
    // it trains as the run label.
    String metrics = scrape(port);
    assertTrue(metrics.contains("scoreflow_sweep_workers{run=\"four\"} 4.0"), metrics);
    assertTrue(
        metrics.contains("scoreflow_cluster_workers{run=\"" + victimJob + "\"} 2.0"), metrics);
    assertTrue(
        java.util.regex.Pattern.compile(
                "scoreflow_sweep_jobs\\{run=\"four\",state=\"running\"} [12]\\.0")
            .matcher(metrics)
            .find(),
        metrics);
    String workerMetrics = "";
    for (int k = 1; k <= 4 && !workerMetrics.contains("scoreflow_train_step{"); k++) {
      workerMetrics = scrape(port + k);
    }
    assertTrue(workerMetrics.contains("scoreflow_train_step{"), workerMetrics);
    RunRecords.worker(victim).destroyForcibly();

    CliTest.Result first = sweep.get(8, TimeUnit.MINUTES);
    assertEquals(0, first.code(), first.err());
    assertTrue(
        first.err().contains(victim + " exited"), "the kill was not noticed:\n" + first.err());
    // The results fill as the sweep goes: the first jobs are measured while the last ones train.
    int firstMeasured = first.err().indexOf(": measuring step");
    int lastFinished = first.err().lastIndexOf(" finished at step " + STEPS);
    assertTrue(
        firstMeasured >= 0 && firstMeasured < lastFinished,
        "nothing was measured before the last job finished:\n" + first.err());
    JsonNode results = JSON.readTree(first.out());
    assertEquals(4, results.get("jobs").size());
    boolean regrouped = false;
    for (JsonNode row : results.get("jobs")) {
      String job = row.get("job").asText();
      assertEquals("finished", row.get("state").asText(), job);
      assertEquals(STEPS, row.get("steps").asLong(), job);
      assertTrue(Double.isFinite(row.get("value").asDouble()), job + ": no metric");
      List<JsonNode> journal = RunRecords.events(out.resolve(job).resolve("events.jsonl"), null);
      // No step lost or doubled: after every rollback, each step 0..STEPS-1 exactly once.
      Map<Long, Double> history = RunRecords.history(journal);
      assertEquals(STEPS, history.size(), job);
      assertEquals(0L, history.keySet().iterator().next(), job);
      regrouped |= journal.stream().anyMatch(e -> e.get("event").asText().equals("regroup"));
      // The newest checkpoint is the last step, and it verifies.
      CheckpointReader reader = CheckpointReader.of(out.resolve(job).resolve("checkpoints"));
      assertEquals(STEPS, reader.committedSteps().get(reader.committedSteps().size() - 1), job);
      assertTrue(reader.searchAtMost(Long.MAX_VALUE).found().isPresent(), job);
      // The picture of the newest checkpoint's samples (vector data: a scatter), a whole PNG.
      assertEquals(job + "/samples.png", row.get("samples").asText(), job);
      java.awt.image.BufferedImage picture =
          javax.imageio.ImageIO.read(out.resolve(job).resolve("samples.png").toFile());
      assertEquals(600, picture.getWidth(), job);
    }
    assertTrue(regrouped, "no job regrouped after the kill");
    String table = Files.readString(out.resolve("results.md"));
    for (String job : List.of("vp-linear", "vp-exp", "ve-exp", "ve-constant")) {
      assertTrue(table.contains("| " + job + " | finished | " + STEPS + " |"), table);
    }
    assertTrue(Files.size(out.resolve("results.png")) > 0);

    // The same command again: nothing is trained again, the table is the same jobs.
    long linesBefore = Files.readAllLines(out.resolve("vp-linear").resolve("events.jsonl")).size();
    CliTest.Result second =
        CliTest.run("sweep", spec.toString(), "--workers", "4", "--out", out.toString());
    assertEquals(0, second.code(), second.err());
    for (String job : List.of("vp-linear", "vp-exp", "ve-exp", "ve-constant")) {
      assertTrue(second.err().contains(job + " finished earlier; not run again"), second.err());
    }
    assertEquals(
        linesBefore, Files.readAllLines(out.resolve("vp-linear").resolve("events.jsonl")).size());
    CliTest.Result status = CliTest.run("sweep", "status", out.toString(), "--json");
    assertEquals(0, status.code(), status.err());
    for (JsonNode job : JSON.readTree(status.out()).get("jobs")) {
      assertEquals("finished", job.get("state").asText());
    }
  }

  /**
   * {@code sweep SPEC --coordinator HOST:PORT}: a pool that runs on its own ({@code scoreflow
   * pool}, mutual TLS from {@code certs init}) with two worker processes that joined it, and the
   * sweep submitting from this process: the pool's workers train both jobs one after the other, the
   * pool writes their journals, the sweep follows and measures them; run again, it trains nothing.
   */
  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void aSweepRunsOnAPoolThatIsAlreadyRunning(@TempDir Path dir) throws Exception {
    Path certs = dir.resolve("certs");
    CliTest.Result made = CliTest.run("certs", "init", "--dir", certs.toString(), "--workers", "2");
    assertEquals(0, made.code(), made.err());
    int port = freePorts(1);
    Path logs = Files.createDirectories(dir.resolve("logs"));
    List<Process> started = new java.util.ArrayList<>();
    try {
      started.add(
          RunRecords.startCli(
              List.of(
                  "pool",
                  "--name",
                  "shared",
                  "--port",
                  Integer.toString(port),
                  "--tls-dir",
                  certs.toString()),
              logs.resolve("pool.log")));
      for (int k = 0; k < 2; k++) {
        String id = io.scoreflow.cli.cluster.LocalWorkers.id(k);
        started.add(
            RunRecords.startCli(
                List.of(
                    "worker",
                    "--join",
                    "127.0.0.1:" + port,
                    "--id",
                    id,
                    "--tls-dir",
                    certs.toString(),
                    "--device",
                    "cpu"),
                logs.resolve(id + ".log")));
      }
      Path spec = dir.resolve("two.conf");
      Files.writeString(
          spec,
          Files.readString(spec(dir))
              .replace("name = four", "name = two")
              .replace("[vp-linear, vp-exp, ve-exp, ve-constant]", "[vp-linear, ve-exp]")
              .replace("steps = " + STEPS, "steps = 40"));
      Path out = dir.resolve("out");
      String[] args = {
        "sweep",
        spec.toString(),
        "--coordinator",
        "127.0.0.1:" + port,
        "--tls-dir",
        certs.toString(),
        "--out",
        out.toString(),
        "--json"
      };
      CliTest.Result first = CliTest.run(args);
      String poolLog = Files.readString(logs.resolve("pool.log"));
      assertEquals(0, first.code(), first.err() + "\npool:\n" + poolLog);
      assertTrue(first.err().contains("vp-linear queued"), first.err());
      assertTrue(first.err().contains("ve-exp finished at step 40"), first.err());
      for (JsonNode row : JSON.readTree(first.out()).get("jobs")) {
        String job = row.get("job").asText();
        assertEquals("finished", row.get("state").asText(), job);
        assertTrue(Double.isFinite(row.get("value").asDouble()), job + ": no metric");
        // The pool wrote the journal: a ring of the two pool workers, every step once.
        List<JsonNode> journal = RunRecords.events(out.resolve(job).resolve("events.jsonl"), null);
        assertEquals(40, RunRecords.history(journal).size(), job);
        JsonNode ring =
            journal.stream().filter(e -> e.get("event").asText().equals("ring")).findFirst().get();
        assertEquals(2, ring.get("workers").size(), job);
      }
      // Both jobs had the same two workers, so the second waited for the first.
      assertTrue(poolLog.contains("job ve-exp queued"), poolLog);

      CliTest.Result second = CliTest.run(args);
      assertEquals(0, second.code(), second.err());
      assertTrue(second.err().contains("ve-exp finished earlier; not run again"), second.err());

      // Flags of a sweep's own pool make no sense against another: one line, nothing started.
      CliTest.Result mixed =
          CliTest.run(
              "sweep",
              spec.toString(),
              "--coordinator",
              "127.0.0.1:" + port,
              "--workers",
              "4",
              "--insecure",
              "--out",
              out.toString());
      assertEquals(2, mixed.code(), mixed.err());
      assertTrue(mixed.err().strip().startsWith("scoreflow: error: --workers"), mixed.err());
    } finally {
      for (Process p : started) {
        p.destroyForcibly().waitFor();
      }
    }
  }

  /** The first of {@code n} consecutive ports that are free now. */
  private static int freePorts(int n) throws IOException {
    for (int attempt = 0; attempt < 50; attempt++) {
      int first;
      try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
        first = s.getLocalPort();
      }
      boolean free = first + n < 65536;
      for (int k = 1; k < n && free; k++) {
        try (java.net.ServerSocket s = new java.net.ServerSocket(first + k)) {
          free = true;
        } catch (IOException busy) {
          free = false;
        }
      }
      if (free) {
        return first;
      }
    }
    throw new IOException("no " + n + " consecutive free ports");
  }

  private static String scrape(int port) throws Exception {
    var client = java.net.http.HttpClient.newHttpClient();
    var request =
        java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + port + "/metrics"))
            .timeout(java.time.Duration.ofSeconds(10))
            .build();
    return client.send(request, java.net.http.HttpResponse.BodyHandlers.ofString()).body();
  }

  @Test
  void aBadSpecIsOneLineThatNamesTheProblem(@TempDir Path dir) throws IOException {
    Path spec = dir.resolve("bad.conf");
    Files.writeString(
        spec, "sweep { name = x, steps = 5, base = quick-cpu, jobs = [{name = a}, {name = a}] }");
    CliTest.Result r = CliTest.run("sweep", spec.toString(), "--out", dir.resolve("o").toString());
    assertEquals(2, r.code(), r.err());
    assertEquals("scoreflow: error: sweep spec " + spec + " names job 'a' twice", r.err().strip());
    CliTest.Result none = CliTest.run("sweep", "status", dir.toString());
    assertEquals(2, none.code());
    assertTrue(none.err().contains("is not a sweep's directory"), none.err());
  }
}
