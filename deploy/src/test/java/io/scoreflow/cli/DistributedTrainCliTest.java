package io.scoreflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import io.scoreflow.ckpt.CheckpointReader;
import io.scoreflow.ckpt.LoadedCheckpoint;
import io.scoreflow.train.TrainState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train --workers N} as a user runs it: a coordinator in this JVM and real worker processes
 * on loopback, exchanging gradients through the ring all-reduce (the default) or the star fallback.
 */
class DistributedTrainCliTest {

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

  /**
   * The tiny U-Net (tiny DDPM++, nf 8) on Fashion-MNIST with a global batch of 12, which 1, 2, 3
   * and 4 workers split evenly. No dropout: it draws from the engine's generator per rank.
   */
  private static Path unetConfig(Path dir) throws IOException {
    Path conf = dir.resolve("unet.conf");
    Files.writeString(
        conf,
        """
        scoreflow {
          job.name = unet-dist
          sde.name = vp-linear
          model { arch = tiny-ddpmpp, nf = 8, ch-mult = [1, 2], attn-resolutions = [7], dropout = 0 }
          data { source = fashion-mnist, path = "/usr/share/datasets/fashion-mnist", random-flip = true }
          train {
            batch-size = 12
            ema-rate = 0.99
            optim { lr = 1e-3, warmup = 5 }
            log-every = 5
            checkpoint-every = 20
          }
          cluster { form-timeout = 300s, step-timeout = 300s }
        }
        """);
    return conf;
  }

  private static List<JsonNode> events(Path file, String kind) throws IOException {
    return RunRecords.events(file, kind);
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
    // 192.0.2.1 (TEST-NET-1) is never an address of this machine.
    Path elsewhere = dir.resolve("elsewhere");
    CliTest.Result host =
        CliTest.run(
            "coordinator",
            conf.toString(),
            "--workers",
            "2",
            "--host",
            "192.0.2.1",
            "--out",
            elsewhere.toString(),
            "--insecure");
    assertEquals(2, host.code(), host.err());
    assertTrue(host.err().contains("scoreflow: error: cannot listen on 192.0.2.1"), host.err());
    assertFalse(host.err().contains("\tat "), "a stack trace: " + host.err());
    assertFalse(Files.exists(elsewhere), "a refused start left " + elsewhere);
    CliTest.Result elastic =
        CliTest.run(
            "train",
            conf.toString(),
            "--workers",
            "2",
            "--out",
            dir.resolve("e").toString(),
            "--set",
            "scoreflow.cluster.elastic-batch=grow");
    assertEquals(2, elastic.code(), elastic.err());
    assertTrue(elastic.err().contains("elastic-batch must be keep"), elastic.err());
    Path wireRun = dir.resolve("w");
    CliTest.Result wire = train(conf, wireRun, 10, "--set", "scoreflow.cluster.wire=fp16");
    assertEquals(2, wire.code(), wire.err());
    assertEquals(
        "scoreflow: error: scoreflow.cluster.wire must be fp32 or bf16, got 'fp16'",
        wire.err().strip());
    CliTest.Result star =
        train(
            conf,
            wireRun,
            10,
            "--set",
            "scoreflow.cluster.wire=bf16",
            "--set",
            "scoreflow.cluster.exchange=star");
    assertEquals(2, star.code(), star.err());
    assertTrue(star.err().contains("the star exchange sends float32 only"), star.err());
    assertFalse(Files.exists(wireRun.resolve("checkpoints")), "a refused start wrote checkpoints");
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

  /**
   * bf16 on the wire with error feedback: the replicas stay bit-identical at every step, and a run
   * stopped at a checkpoint and resumed ends bit for bit where the uninterrupted run does (the
   * residual, which no checkpoint holds, is dropped at every checkpoint step on every rank).
   */
  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void bf16WithErrorFeedbackKeepsReplicasIdenticalAndResumesBitForBit(@TempDir Path dir)
      throws Exception {
    Path conf = mlpConfig(dir);
    String[] bf16 = {
      "--set", "scoreflow.cluster.wire=bf16", "--set", "scoreflow.cluster.error-feedback=on"
    };
    Path whole = dir.resolve("whole");
    CliTest.Result r = train(conf, whole, 30, bf16);
    assertEquals(0, r.code(), r.err());
    assertTrue(r.err().contains("(ring exchange, bf16 with error feedback on the wire)"), r.err());
    assertTrue(
        Files.readString(whole.resolve("logs/worker-001.log"))
            .contains("(bf16 with error feedback on the wire)"));
    Map<Long, String> rank0 = checksums(whole, 0);
    assertEquals(30, rank0.size());
    assertEquals(rank0, checksums(whole, 1));

    assertResumesBitForBit(conf, dir.resolve("split"), 20, 30, rank0, bf16);

    // fp32 trains other parameters from the same seed: the wire really changed.
    Path fp32 = dir.resolve("fp32");
    assertEquals(0, train(conf, fp32, 10).code());
    assertFalse(rank0.get(9L).equals(checksums(fp32, 0).get(9L)), "bf16 and fp32 differ");
  }

  /**
   * Local SGD over real worker processes: the replicas agree at every synchronisation (every 4
   * steps and at each checkpoint step) and carry no checksum in between, which the coordinator
   * accepts; a run resumed from its checkpoint ends bit for bit where the uninterrupted one does.
   */
  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void localSgdAgreesAtEverySynchronisationAndResumesBitForBit(@TempDir Path dir) throws Exception {
    Path conf = mlpConfig(dir);
    String[] local = {
      "--set",
      "scoreflow.cluster.sync=\"local:4\"",
      "--set",
      "scoreflow.cluster.outer.optimizer=nesterov"
    };
    Path whole = dir.resolve("whole");
    CliTest.Result r = train(conf, whole, 20, local);
    assertEquals(0, r.code(), r.err());
    Map<Long, String> rank0 = checksums(whole, 0);
    // Steps 3, 7, 11, 15, 19 by the schedule; 9 because a checkpoint (every 10) follows it.
    assertEquals(List.of(3L, 7L, 9L, 11L, 15L, 19L), List.copyOf(rank0.keySet()));
    assertEquals(rank0, checksums(whole, 1));

    assertResumesBitForBit(conf, dir.resolve("split"), 10, 20, rank0, local);
  }

  /**
   * The delayed mode over real worker processes: each step's exchange overlaps the next step's
   * compute, the replicas agree after every step, and a resumed run ends bit for bit where the
   * uninterrupted one does (checkpoint steps drain the pipeline).
   */
  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void delayedGradientsKeepReplicasIdenticalAndResumeBitForBit(@TempDir Path dir) throws Exception {
    Path conf = mlpConfig(dir);
    String[] delayed = {"--set", "scoreflow.cluster.sync=delayed"};
    Path whole = dir.resolve("whole");
    CliTest.Result r = train(conf, whole, 20, delayed);
    assertEquals(0, r.code(), r.err());
    Map<Long, String> rank0 = checksums(whole, 0);
    assertEquals(20, rank0.size());
    assertEquals(rank0, checksums(whole, 1));
    assertResumesBitForBit(conf, dir.resolve("split"), 10, 20, rank0, delayed);
  }

  /**
   * Trains {@code mode} to {@code stop} into {@code split}, resumes it to {@code end}, and checks
   * that both ranks end with the parameters {@code uninterrupted} (rank 0's checksums of a run
   * straight to {@code end}) had.
   */
  private static void assertResumesBitForBit(
      Path conf, Path split, int stop, int end, Map<Long, String> uninterrupted, String... mode)
      throws Exception {
    assertEquals(0, train(conf, split, stop, mode).code());
    String[] resume = java.util.Arrays.copyOf(mode, mode.length + 1);
    resume[mode.length] = "--resume";
    CliTest.Result resumed = train(conf, split, end, resume);
    assertEquals(0, resumed.code(), resumed.err());
    long last = end - 1;
    assertEquals(
        uninterrupted.get(last),
        checksums(split, 0).get(last),
        "resumed at " + stop + ", equal at " + end);
    assertEquals(checksums(split, 0), checksums(split, 1));
  }

  private static CliTest.Result train(Path conf, Path out, int steps, String... extra)
      throws Exception {
    List<String> args =
        new java.util.ArrayList<>(
            List.of(
                "train",
                conf.toString(),
                "--workers",
                "2",
                "--steps",
                Integer.toString(steps),
                "--out",
                out.toString()));
    args.addAll(List.of(extra));
    return CliTest.run(args.toArray(String[]::new));
  }

  @Test
  @Timeout(value = 15, unit = TimeUnit.MINUTES)
  void threeRingWorkersWithAThirdOfTheBatchMatchOneProcessWithTheWholeBatch(@TempDir Path dir)
      throws Exception {
    Path conf = unetConfig(dir);
    Assumptions.assumeTrue(
        Files.isRegularFile(
            Path.of("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")),
        "needs Debian's dataset-fashion-mnist (installed by .ci/run)");
    Path one = dir.resolve("one");
    Path three = dir.resolve("three");
    CliTest.Result single =
        CliTest.run("train", conf.toString(), "--steps", "20", "--out", one.toString());
    assertEquals(0, single.code(), single.err());
    CliTest.Result ring =
        CliTest.run(
            "train", conf.toString(), "--workers", "3", "--steps", "20", "--out", three.toString());
    assertEquals(0, ring.code(), ring.err());
    assertTrue(ring.err().contains("(ring exchange)"), ring.err());

    // Every rank's parameters are bit-identical after every step.
    Map<Long, String> rank0 = checksums(three, 0);
    assertEquals(20, rank0.size());
    assertEquals(rank0, checksums(three, 1));
    assertEquals(rank0, checksums(three, 2));

    Difference d = difference(one, three, 20);
    System.out.printf(
        "tiny U-Net, 3 ring workers x B/3 vs 1 x B after 20 steps: max relative parameter"
            + " difference %.3g (worst single tensor %.3g, %s)%n",
        d.relative(), d.worstTensor(), d.worstTensorName());
    assertTrue(d.relative() <= 1e-5, "max relative difference " + d);
  }

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void theStarFallbackStillTrainsWhenTheConfigAsksForIt(@TempDir Path dir) throws Exception {
    Path conf = mlpConfig(dir);
    Path run = dir.resolve("run");
    CliTest.Result r =
        CliTest.run(
            "train",
            conf.toString(),
            "--workers",
            "2",
            "--steps",
            "10",
            "--out",
            run.toString(),
            "--set",
            "scoreflow.cluster.exchange=star");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.err().contains("(star exchange)"), r.err());
    assertEquals(10, checksums(run, 0).size());
    assertEquals(checksums(run, 0), checksums(run, 1));
    assertTrue(
        Files.readString(run.resolve("logs/worker-000.log")).contains("star exchange connected"));

    CliTest.Result bad =
        CliTest.run(
            "train",
            conf.toString(),
            "--workers",
            "2",
            "--out",
            dir.resolve("bad").toString(),
            "--set",
            "scoreflow.cluster.exchange=pigeon");
    assertEquals(2, bad.code(), bad.err());
    assertEquals(
        "scoreflow: error: scoreflow.cluster.exchange must be ring or star, got 'pigeon'",
        bad.err().strip());
  }

  /** How far two runs' parameters are apart. */
  record Difference(double relative, double worstTensor, String worstTensorName) {}

  /**
   * The two runs' trained parameters (those Adam keeps moments for; not constant buffers such as
   * the noise levels) at {@code step}, compared as one vector: max |a - b| over max |a|. Also the
   * same ratio per tensor, for tensors above round-off size (1e-6), whose worst case is reported
   * but not asserted: Adam divides each gradient by its own running magnitude, so a weight whose
   * gradient is a near-cancelling sum over samples takes a step whose size follows the summation
   * order, and such weights start at zero in DDPM++ (zero-initialised output convolutions). The
   * star exchange, which sums in rank order, shows the same per-tensor figure.
   */
  private static Difference difference(Path a, Path b, long step) throws IOException {
    try (NDManager manager = NDManager.newBaseManager()) {
      LoadedCheckpoint ca = CheckpointReader.of(a.resolve("checkpoints")).load(step, manager);
      NDList modelA = ca.group(TrainState.MODEL);
      NDList moments = ca.group(TrainState.OPTIMIZER);
      NDList modelB =
          CheckpointReader.of(b.resolve("checkpoints")).load(step, manager).group(TrainState.MODEL);
      assertEquals(modelA.size(), modelB.size());
      double maxDiff = 0;
      double maxAbs = 0;
      double worstTensor = 0;
      String worstName = "";
      boolean anyDifferent = false;
      int trained = 0;
      for (NDArray x : modelA) {
        if (!moments.contains("exp_avg." + x.getName())) {
          continue;
        }
        trained++;
        float[] va = x.toFloatArray();
        float[] vb = modelB.get(x.getName()).toFloatArray();
        double tensorDiff = 0;
        double tensorAbs = 0;
        for (int i = 0; i < va.length; i++) {
          tensorDiff = Math.max(tensorDiff, Math.abs(va[i] - vb[i]));
          tensorAbs = Math.max(tensorAbs, Math.abs(va[i]));
          anyDifferent |= va[i] != vb[i];
        }
        maxDiff = Math.max(maxDiff, tensorDiff);
        maxAbs = Math.max(maxAbs, tensorAbs);
        if (tensorAbs > 1e-6 && tensorDiff / tensorAbs > worstTensor) {
          worstTensor = tensorDiff / tensorAbs;
          worstName = x.getName();
        }
      }
      assertTrue(trained > 10, "only " + trained + " trained tensors found");
      // Summation order differs (shards, ring), so equality would mean nothing was distributed.
      assertTrue(anyDifferent, "the runs are bit-identical: was the batch split at all?");
      return new Difference(maxDiff / maxAbs, worstTensor, worstName);
    }
  }

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void aKilledWorkerWithoutRestartsLeftFailsTheRunLoudlyInsteadOfHanging(@TempDir Path dir)
      throws Exception {
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
                    run.toString(),
                    // No restart, and all workers wanted: the ring cannot re-form.
                    "--set",
                    "scoreflow.cluster.max-restarts=0",
                    "--set",
                    "scoreflow.cluster.regroup-timeout=10s"));
    Path rank1 = run.resolve("events-rank-1.jsonl");
    long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
    while (!(Files.exists(rank1) && events(rank1, "params").size() >= 20)) {
      assertTrue(System.nanoTime() < deadline, "the run never got going");
      assertFalse(training.isDone(), () -> "ended early: " + training.join().err());
      Thread.sleep(200);
    }
    assertTrue(RunRecords.worker("worker-001").destroyForcibly());

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
}
