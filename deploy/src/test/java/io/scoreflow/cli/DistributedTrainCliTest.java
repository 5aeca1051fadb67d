package io.scoreflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.scoreflow.ckpt.CheckpointReader;
import io.scoreflow.ckpt.LoadedCheckpoint;
import io.scoreflow.train.TrainState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train --workers 2} as a user runs it: a coordinator in this JVM and two real worker
 * processes on loopback, exchanging gradients through the star fallback.
 */
class DistributedTrainCliTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** The small MLP of {@link TrainCliTest}, keeping every checkpoint. */
  private static Path mlpConfig(Path dir) throws IOException {
    Path conf = dir.resolve("mlp.conf");
    Files.writeString(
        conf,
        """
        scoreflow {
          job.name = mlp-dist
          sde.name = vp-linear
          model { arch = mlp, mlp { hidden = 32, layers = 2 } }
          data { source = gaussian, random-flip = false, gaussian { dim = 4, mean = 1.0, std = 0.5, size = 4096 } }
          train {
            batch-size = 32
            ema-rate = 0.99
            optim { lr = 1e-3, warmup = 5 }
            log-every = 5
            checkpoint-every = 10
            keep-checkpoints = 100
          }
          cluster { form-timeout = 120s, step-timeout = 120s }
        }
        """);
    return conf;
  }

  private static List<JsonNode> events(Path file, String kind) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    for (String line : Files.readAllLines(file)) {
      JsonNode e = JSON.readTree(line);
      if (e.get("event").asText().equals(kind)) {
        out.add(e);
      }
    }
    return out;
  }

  /** step → crc32c of one rank's parameters after that step. */
  private static Map<Long, String> checksums(Path run, int rank) throws IOException {
    Map<Long, String> byStep = new TreeMap<>();
    for (JsonNode e : events(run.resolve("events-rank-" + rank + ".jsonl"), "params")) {
      byStep.put(e.get("step").asLong(), e.get("crc32c").asText());
    }
    return byStep;
  }

  private static List<String> checkpointDirectories(Path run) throws IOException {
    try (Stream<Path> s = Files.list(run.resolve("checkpoints"))) {
      return s.map(p -> p.getFileName().toString())
          .filter(n -> !n.startsWith("."))
          .sorted()
          .toList();
    }
  }

  @Test
  void badClusterInputIsOneLineAndStartsNothing(@TempDir Path dir) throws Exception {
    Path conf = mlpConfig(dir);
    CliTest.Result uneven =
        CliTest.run(
            "train", conf.toString(), "--workers", "3", "--out", dir.resolve("r").toString());
    assertEquals(2, uneven.code(), uneven.err());
    assertTrue(uneven.err().contains("batch-size 32 is not divisible by 3 workers"), uneven.err());
    CliTest.Result join = CliTest.run("worker", "--join", "no-port-here");
    assertEquals(2, join.code(), join.err());
    assertTrue(join.err().contains("--join must be HOST:PORT"), join.err());
    CliTest.Result exchange =
        CliTest.run("worker", "--join", "127.0.0.1:1", "--exchange", "carrier-pigeon");
    assertEquals(2, exchange.code(), exchange.err());
    assertTrue(exchange.err().contains("--exchange must be ring or star"), exchange.err());
  }

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void twoWorkersAgreeAtEveryStepAndRankZeroWritesEachCheckpointOnce(@TempDir Path dir)
      throws Exception {
    Path conf = mlpConfig(dir);
    Path run = dir.resolve("run");
    CliTest.Result r =
        CliTest.run(
            "train", conf.toString(), "--workers", "2", "--steps", "30", "--out", run.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("30 steps done on 2 workers (generation 1)"), r.out());
    assertTrue(r.err().contains("rank 1: worker-001"), r.err());

    // Both replicas logged a checksum after every step, and they are equal at every step.
    Map<Long, String> rank0 = checksums(run, 0);
    Map<Long, String> rank1 = checksums(run, 1);
    assertEquals(30, rank0.size());
    assertEquals(rank0.keySet(), rank1.keySet());
    assertEquals(rank0, rank1);
    assertEquals(30, rank0.values().stream().distinct().count(), "parameters change every step");

    // One checkpoint directory per checkpoint step, committed by rank 0 alone.
    assertEquals(
        List.of("LATEST", "step-000000010", "step-000000020", "step-000000030"),
        checkpointDirectories(run));
    assertEquals(
        List.of(10L, 20L, 30L),
        events(run.resolve("events-rank-0.jsonl"), "checkpoint").stream()
            .map(e -> e.get("step").asLong())
            .toList());
    assertTrue(events(run.resolve("events-rank-1.jsonl"), "checkpoint").isEmpty());
    CheckpointReader reader = CheckpointReader.of(run.resolve("checkpoints"));
    assertEquals(1, reader.verify(30).manifest().generation());
    assertTrue(Files.isRegularFile(run.resolve("config.conf")));

    // Resuming continues the same run on a new ring from the newest checkpoint.
    CliTest.Result resumed =
        CliTest.run(
            "train",
            conf.toString(),
            "--workers",
            "2",
            "--steps",
            "40",
            "--out",
            run.toString(),
            "--resume");
    assertEquals(0, resumed.code(), resumed.err());
    assertTrue(resumed.err().contains("resuming"), resumed.err());
    assertTrue(resumed.err().contains("steps 30..40"), resumed.err());
    assertEquals(checksums(run, 0), checksums(run, 1));
    assertEquals(40, checksums(run, 0).size());
    assertEquals("step-000000040", checkpointDirectories(run).get(4));
  }

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void twoWorkersWithHalfBatchesMatchOneProcessWithTheWholeBatch(@TempDir Path dir)
      throws Exception {
    Path conf = mlpConfig(dir);
    Path one = dir.resolve("one");
    Path two = dir.resolve("two");
    CliTest.Result single =
        CliTest.run("train", conf.toString(), "--steps", "20", "--out", one.toString());
    assertEquals(0, single.code(), single.err());
    CliTest.Result pair =
        CliTest.run(
            "train", conf.toString(), "--workers", "2", "--steps", "20", "--out", two.toString());
    assertEquals(0, pair.code(), pair.err());

    try (NDManager manager = NDManager.newBaseManager()) {
      LoadedCheckpoint a = CheckpointReader.of(one.resolve("checkpoints")).load(20, manager);
      LoadedCheckpoint b = CheckpointReader.of(two.resolve("checkpoints")).load(20, manager);
      NDList modelA = a.group(TrainState.MODEL);
      NDList modelB = b.group(TrainState.MODEL);
      assertEquals(modelA.size(), modelB.size());
      double worst = 0;
      String worstName = "";
      boolean anyDifferent = false;
      for (NDArray x : modelA) {
        float[] va = x.toFloatArray();
        float[] vb = modelB.get(x.getName()).toFloatArray();
        double maxDiff = 0;
        double maxAbs = 0;
        for (int i = 0; i < va.length; i++) {
          maxDiff = Math.max(maxDiff, Math.abs(va[i] - vb[i]));
          maxAbs = Math.max(maxAbs, Math.abs(va[i]));
          anyDifferent |= va[i] != vb[i];
        }
        double relative = maxAbs == 0 ? maxDiff : maxDiff / maxAbs;
        if (relative > worst) {
          worst = relative;
          worstName = x.getName();
        }
      }
      System.out.printf(
          "2 x B/2 vs 1 x B after 20 steps: max relative difference %.3g (%s), bit-equal %s%n",
          worst, worstName, !anyDifferent);
      assertTrue(worst <= 1e-5, "max relative difference " + worst + " in " + worstName);
    }
  }

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void aKilledWorkerFailsTheRunLoudlyInsteadOfHanging(@TempDir Path dir) throws Exception {
    Path conf = mlpConfig(dir);
    Path run = dir.resolve("run");
    CompletableFuture<CliTest.Result> training =
        CompletableFuture.supplyAsync(
            () ->
                CliTest.run(
                    "train",
                    conf.toString(),
                    "--workers",
                    "2",
                    "--steps",
                    "1000000",
                    "--out",
                    run.toString()));
    Path rank1 = run.resolve("events-rank-1.jsonl");
    long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
    while (!(Files.exists(rank1) && events(rank1, "params").size() >= 20)) {
      assertTrue(System.nanoTime() < deadline, "the run never got going");
      assertFalse(training.isDone(), () -> "ended early: " + training.join().err());
      Thread.sleep(200);
    }
    ProcessHandle worker1 =
        ProcessHandle.current()
            .children()
            .filter(p -> commandLine(p).contains("worker-001"))
            .findFirst()
            .orElseThrow();
    assertTrue(worker1.destroyForcibly());

    CliTest.Result r;
    List<ProcessHandle> leftBehind;
    try {
      r = training.get(3, TimeUnit.MINUTES);
      leftBehind = ProcessHandle.current().children().filter(ProcessHandle::isAlive).toList();
    } finally {
      // Never leave the run going while JUnit deletes its directory.
      ProcessHandle.current().children().forEach(ProcessHandle::destroyForcibly);
    }
    assertEquals(1, r.code(), r.err());
    assertTrue(r.err().contains("scoreflow: error: "), r.err());
    assertTrue(r.err().contains("worker-001"), r.err());
    assertTrue(r.err().contains("worker logs: "), r.err());
    assertEquals(List.of(), leftBehind, "worker processes left behind");
  }

  /**
   * The command line of a process, from {@code /proc} (the JDK's {@code ProcessHandle.Info} has
   * none for command lines as long as a worker's).
   */
  private static String commandLine(ProcessHandle p) {
    try {
      return Files.readString(Path.of("/proc", Long.toString(p.pid()), "cmdline"))
          .replace('\0', ' ');
    } catch (IOException e) {
      return "";
    }
  }
}
