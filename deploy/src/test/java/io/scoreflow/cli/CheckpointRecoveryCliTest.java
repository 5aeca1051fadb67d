package io.scoreflow.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.scoreflow.ckpt.CheckpointReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damaged checkpoints as a user meets them, through the real CLI: resume and sample fall back to
 * the newest checkpoint that verifies and say which; a run whose checkpoints all fail is refused in
 * one line with the run directory untouched, or, with --restart-from-scratch, set aside byte for
 * byte and started again at step 0.
 */
class CheckpointRecoveryCliTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** A tiny MLP on Gaussian vectors that checkpoints every 2 steps and keeps the last 3. */
  private static Path config(Path dir) throws IOException {
    Path conf = dir.resolve("mlp.conf");
    Files.writeString(
        conf,
        """
        scoreflow {
          job.name = mlp-recovery
          model { arch = mlp, mlp { hidden = 16, layers = 2 } }
          data { source = gaussian, random-flip = false, gaussian { dim = 2, size = 256 } }
          train {
            batch-size = 16, optim { lr = 1e-3, warmup = 2 }, log-every = 1
            checkpoint-every = 2, keep-checkpoints = 3
          }
        }
        """);
    return conf;
  }

  private static CliTest.Result train(Path conf, Path run, long steps, String... flags) {
    List<String> args =
        new java.util.ArrayList<>(
            List.of("train", conf.toString(), "--steps", "" + steps, "--out", run.toString()));
    args.addAll(List.of(flags));
    return CliTest.run(args.toArray(String[]::new));
  }

  private static Path step(Path run, long step) {
    return run.resolve("checkpoints").resolve(String.format("step-%09d", step));
  }

  private static void flipBit(Path file, long bit) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    bytes[(int) (bit / 8)] ^= (byte) (1 << (bit % 8));
    Files.write(file, bytes);
  }

  /** The single line of stderr of a refused command; fails unless there is exactly one. */
  private static String oneLine(CliTest.Result r) {
    assertEquals(1, r.err().lines().count(), "one line: " + r.err());
    assertFalse(r.err().contains("Exception"), "no stack trace: " + r.err());
    assertTrue(r.err().startsWith("scoreflow: error: "), r.err());
    return r.err().strip();
  }

  /** Every path under {@code dir} (directories too) with the SHA-256 of each file's bytes. */
  private static Map<String, String> tree(Path dir) throws IOException {
    Map<String, String> entries = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.toList()) {
        entries.put(dir.relativize(p).toString(), Files.isDirectory(p) ? "dir" : sha256(p));
      }
    }
    return entries;
  }

  private static String sha256(Path file) {
    try {
      return HexFormat.of()
          .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static List<JsonNode> events(Path run, String kind) throws IOException {
    return Files.readAllLines(run.resolve("events.jsonl"), StandardCharsets.UTF_8).stream()
        .map(
            line -> {
              try {
                return JSON.readTree(line);
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            })
        .filter(e -> e.get("event").asText().equals(kind))
        .toList();
  }

  /** A run of 6 steps: checkpoints at steps 2, 4 and 6. */
  private static Path sixSteps(Path conf, Path run) {
    CliTest.Result r = train(conf, run, 6);
    assertEquals(0, r.code(), r.err());
    assertEquals(
        List.of(2L, 4L, 6L), CheckpointReader.of(run.resolve("checkpoints")).committedSteps());
    return run;
  }

  private static void corruptAll(Path run) throws IOException {
    // A different file of each: the manifest, its checksum, a tensor file.
    flipBit(step(run, 6).resolve("manifest.json"), 8 * 40 + 3);
    flipBit(step(run, 4).resolve("manifest.sha256"), 8 * 10);
    flipBit(step(run, 2).resolve("ema.safetensors"), 8 * 200 + 5);
  }

  @Test
  void resumeFallsBackPastADamagedManifestAndContinuesExactly(@TempDir Path dir) throws Exception {
    Path conf = config(dir);
    Path straight = dir.resolve("straight");
    assertEquals(0, train(conf, straight, 8).code());
    Path run = sixSteps(conf, dir.resolve("run"));
    flipBit(step(run, 6).resolve("manifest.json"), 8 * 40 + 3);

    CliTest.Result r = train(conf, run, 8, "--resume");
    assertEquals(0, r.code(), r.err());
    assertTrue(
        r.err()
            .contains(
                "scoreflow: warning: using checkpoint step 4, the newest that verifies; skipped"
                    + " step 6 (manifest checksum mismatch: manifest.json fails its checksum"),
        r.err());
    assertTrue(r.err().contains("resuming " + run + ": steps 4..8"), r.err());
    JsonNode resume = events(run, "resume").get(0);
    assertEquals(4, resume.get("step").asLong());
    assertTrue(resume.get("warnings").get(0).asText().contains("skipped step 6"), "" + resume);
    // Steps 5..8 trained again from step 4 are exactly the uninterrupted run's.
    for (String f : List.of("model.safetensors", "ema.safetensors", "optimizer.safetensors")) {
      assertArrayEquals(
          Files.readAllBytes(step(straight, 8).resolve(f)),
          Files.readAllBytes(step(run, 8).resolve(f)),
          f);
    }
    // The damaged step 6 was replaced by a new one, and kept aside, not deleted.
    try (Stream<Path> aside = Files.list(run.resolve("checkpoints"))) {
      assertEquals(
          1,
          aside
              .filter(p -> p.getFileName().toString().startsWith(".superseded-step-000000006"))
              .count());
    }
  }

  @Test
  void aRunWhoseCheckpointsAllFailIsRefusedInOneLineAndLeftUntouched(@TempDir Path dir)
      throws Exception {
    Path conf = config(dir);
    Path run = sixSteps(conf, dir.resolve("run"));
    corruptAll(run);
    Map<String, String> before = tree(run);

    CliTest.Result resume = train(conf, run, 8, "--resume");
    assertEquals(2, resume.code(), resume.err());
    String line = oneLine(resume);
    assertTrue(
        line.startsWith(
            "scoreflow: error: cannot resume "
                + run
                + ": none of its 3 checkpoints verifies (newest: step 6 (manifest checksum"
                + " mismatch: manifest.json fails its checksum"),
        line);
    assertTrue(
        line.endsWith(
            "nothing was changed: pass --restart-from-scratch to move them into "
                + run.resolve("checkpoints/corrupt-<time>")
                + "/ and start again at step 0, or choose another --out"),
        line);
    assertEquals(before, tree(run));

    // Without --resume it is refused too: starting over would write over the run's history.
    CliTest.Result fresh = train(conf, run, 8);
    assertEquals(2, fresh.code(), fresh.err());
    assertTrue(
        oneLine(fresh)
            .startsWith(
                "scoreflow: error: " + run + " already holds a run, but none of its 3 checkpoints"),
        fresh.err());
    assertEquals(before, tree(run));

    // The coordinator of a distributed run (which always resumes) applies the same rule before
    // it starts anything.
    CliTest.Result coordinator =
        CliTest.run(
            "coordinator",
            conf.toString(),
            "--workers",
            "1",
            "--port",
            "0",
            "--steps",
            "8",
            "--out",
            run.toString(),
            "--insecure");
    assertEquals(2, coordinator.code(), coordinator.err());
    assertTrue(
        oneLine(coordinator).startsWith("scoreflow: error: cannot resume " + run + ": none of"),
        coordinator.err());
    assertEquals(before, tree(run));
  }

  @Test
  void restartFromScratchSetsTheCheckpointsAsideAndStartsAtStepZero(@TempDir Path dir)
      throws Exception {
    Path conf = config(dir);
    Path fresh = dir.resolve("fresh");
    assertEquals(0, train(conf, fresh, 4).code());
    Path run = sixSteps(conf, dir.resolve("run"));
    corruptAll(run);
    Map<String, String> checkpointsBefore = tree(run.resolve("checkpoints"));

    CliTest.Result r = train(conf, run, 4, "--resume", "--restart-from-scratch");
    assertEquals(0, r.code(), r.err());
    Path corrupt;
    try (Stream<Path> folders = Files.list(run.resolve("checkpoints"))) {
      List<Path> found =
          folders.filter(p -> p.getFileName().toString().startsWith("corrupt-")).toList();
      assertEquals(1, found.size(), "" + found);
      corrupt = found.get(0);
    }
    List<String> warnings =
        r.err().lines().filter(l -> l.startsWith("scoreflow: warning: ")).toList();
    assertEquals(1, warnings.size(), r.err());
    assertTrue(
        warnings
            .get(0)
            .matches(
                "scoreflow: warning: "
                    + java.util.regex.Pattern.quote(run + ": none of its 3 checkpoints verifies")
                    + " \\(newest: step 6 \\(manifest checksum mismatch: .*\\)\\); moved them into "
                    + java.util.regex.Pattern.quote(corrupt.toString())
                    + "/ and starting again at step 0"),
        warnings.get(0));
    assertTrue(r.err().contains("starting " + run + ": steps 0..4"), r.err());
    assertEquals(0, events(run, "start").get(1).get("step").asLong());

    // Byte for byte what was there (the writer's lock stays with the root).
    Map<String, String> moved = tree(corrupt);
    Map<String, String> expected = new TreeMap<>(checkpointsBefore);
    expected.remove(".lock");
    expected.remove("");
    moved.remove("");
    assertEquals(expected, moved);
    // The new run is a run from scratch, bit for bit.
    assertEquals(List.of(2L, 4L), CheckpointReader.of(run.resolve("checkpoints")).committedSteps());
    assertArrayEquals(
        Files.readAllBytes(step(fresh, 4).resolve("model.safetensors")),
        Files.readAllBytes(step(run, 4).resolve("model.safetensors")));

    // A checkpoint that verifies is never set aside: without --resume the flag is refused.
    CliTest.Result again = train(conf, run, 6, "--restart-from-scratch");
    assertEquals(2, again.code(), again.err());
    assertTrue(
        oneLine(again)
            .contains(
                "already holds a run (newest checkpoint that verifies: step 4) and"
                    + " --restart-from-scratch only sets aside checkpoints that all fail"
                    + " verification; pass --resume"),
        again.err());
  }

  @Test
  void resumeWithoutAnyCheckpointStartsAtStepZeroAsBefore(@TempDir Path dir) throws Exception {
    Path run = dir.resolve("run");
    CliTest.Result r = train(config(dir), run, 2, "--resume");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.err().contains("starting " + run + ": steps 0..2"), r.err());
    assertFalse(r.err().contains("scoreflow: warning"), r.err());
  }

  @Test
  void sampleUsesTheNewestCheckpointThatVerifiesAndRefusesANamedDamagedOne(@TempDir Path dir)
      throws Exception {
    Path run = sixSteps(config(dir), dir.resolve("run"));
    List<String> sample = List.of("sample", run.toString(), "--steps", "3", "--count", "4");
    CliTest.Result reference =
        CliTest.run(
            Stream.concat(sample.stream(), Stream.of("--step", "4", "--out", dir + "/reference"))
                .toArray(String[]::new));
    assertEquals(0, reference.code(), reference.err());
    flipBit(step(run, 6).resolve("manifest.json"), 8 * 100 + 1);

    CliTest.Result r =
        CliTest.run(
            Stream.concat(sample.stream(), Stream.of("--out", dir + "/fallback"))
                .toArray(String[]::new));
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().startsWith("4 samples from checkpoint step 4: "), r.out());
    assertTrue(
        r.err()
            .contains(
                "scoreflow: warning: using checkpoint step 4, the newest that verifies; skipped"
                    + " step 6 (manifest checksum mismatch"),
        r.err());
    assertArrayEquals(
        Files.readAllBytes(dir.resolve("reference.npz")),
        Files.readAllBytes(dir.resolve("fallback.npz")),
        "the samples of step 4");

    CliTest.Result named =
        CliTest.run(
            Stream.concat(sample.stream(), Stream.of("--step", "6")).toArray(String[]::new));
    assertEquals(2, named.code(), named.err());
    assertTrue(
        oneLine(named)
            .startsWith("scoreflow: error: " + step(run, 6) + ": manifest.json fails its checksum"),
        named.err());

    corruptAll(run);
    CliTest.Result none = CliTest.run(sample.toArray(String[]::new));
    assertEquals(2, none.code(), none.err());
    assertTrue(
        oneLine(none)
            .startsWith(
                "scoreflow: error: cannot sample "
                    + run
                    + ": none of its 3 checkpoints verifies (newest: step 6"),
        none.err());
  }
}
