package io.scoreflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Broken and hostile files given to the commands that read safetensors ({@code eval fd}, {@code
 * model forward}): exit 2 and exactly one line {@code scoreflow: error: FILE: problem}, no trace,
 * nothing written. The files are common's seed corpus, the cases the parser fuzz tests start from.
 */
class BadFilesCliTest {
  private static final Path CORPUS = Path.of("../common/src/test/resources/fuzz-corpus");
  private static final Path GOLDEN = Path.of("../common/src/test/resources/golden");
  private static final Path FEATURES = CORPUS.resolve("stats/ok-features.safetensors");

  @TempDir Path dir;

  static Stream<Path> badStatsFiles() throws IOException {
    return Stream.of("safetensors", "stats")
        .flatMap(
            format -> {
              try {
                return Files.list(CORPUS.resolve(format))
                    .filter(p -> p.getFileName().toString().startsWith("bad-"))
                    .sorted()
                    .toList()
                    .stream();
              } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            });
  }

  @ParameterizedTest
  @MethodSource("badStatsFiles")
  void evalFdRefusesEveryBadSeedInOneLine(Path bad) {
    CliTest.Result r = CliTest.run("eval", "fd", "--a", bad.toString(), "--b", FEATURES.toString());
    String line = oneErrorLine(r);
    assertTrue(line.startsWith("scoreflow: error: " + bad + ": "), line);
  }

  @Test
  void evalFdWithTheReportedFf7fHeaderNamesTheLengthAndTheFileSize() throws IOException {
    Path bad = CORPUS.resolve("safetensors/bad-header-length-ff7f.safetensors");
    long size = Files.size(bad);
    CliTest.Result r = CliTest.run("eval", "fd", "--a", FEATURES.toString(), "--b", bad.toString());
    assertEquals(
        "scoreflow: error: "
            + bad
            + ": not a readable safetensors file: header length 9223372036854775807 is more than"
            + " the "
            + (size - 8)
            + " bytes after it (the file has "
            + size
            + " bytes)",
        oneErrorLine(r));
  }

  @Test
  void evalFdWithAnNpzNamesItsFirstBytesAsAHeaderLength() {
    Path npz = CORPUS.resolve("npz/ok-savez.npz");
    CliTest.Result r = CliTest.run("eval", "fd", "--a", npz.toString(), "--b", FEATURES.toString());
    String line = oneErrorLine(r);
    assertTrue(
        line.startsWith(
            "scoreflow: error: " + npz + ": not a readable safetensors file: header length "),
        line);
  }

  @Test
  void modelForwardWithFf7fWeightsIsOneLineAndWritesNothing() {
    Path bad = CORPUS.resolve("safetensors/bad-header-length-ff7f.safetensors");
    Path out = dir.resolve("out.safetensors");
    CliTest.Result r = forward(bad, GOLDEN.resolve("ncsnpp_io.safetensors"), out);
    String line = oneErrorLine(r);
    assertTrue(
        line.startsWith(
            "scoreflow: error: "
                + bad
                + ": not a readable safetensors file: header length 9223372036854775807 is"),
        line);
    assertFalse(Files.exists(out), "nothing written on refusal");
  }

  @Test
  void modelForwardWithA109ByteFileClaiming2GibIsOneLineNamingLengthAndSize() {
    Path bad = CORPUS.resolve("safetensors/bad-109-bytes-claim-2gib-header.safetensors");
    Path out = dir.resolve("out.safetensors");
    for (List<Path> weightsAndInput :
        List.of(
            List.of(bad, GOLDEN.resolve("ncsnpp_io.safetensors")),
            List.of(GOLDEN.resolve("ncsnpp_weights.safetensors"), bad))) {
      CliTest.Result r = forward(weightsAndInput.get(0), weightsAndInput.get(1), out);
      assertEquals(
          "scoreflow: error: "
              + bad
              + ": not a readable safetensors file: header length 2147483648 is more than the 101"
              + " bytes after it (the file has 109 bytes)",
          oneErrorLine(r));
      assertFalse(Files.exists(out), "nothing written on refusal");
    }
  }

  private static CliTest.Result forward(Path weights, Path input, Path out) {
    return CliTest.run(
        "model",
        "forward",
        "--arch",
        "ncsnpp",
        "--nf",
        "32",
        "--weights",
        weights.toString(),
        "--input",
        input.toString(),
        "--output",
        out.toString());
  }

  /** Exit 2 and exactly one stderr line, an error without a trace; returns the line. */
  private static String oneErrorLine(CliTest.Result r) {
    assertEquals(2, r.code(), r.err());
    List<String> lines = r.err().lines().toList();
    assertEquals(1, lines.size(), r.err());
    String line = lines.get(0);
    assertTrue(line.startsWith("scoreflow: error: "), line);
    assertFalse(line.contains("Exception"), line);
    return line;
  }
}
