package io.scoreflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.scoreflow.cli.output.Describe;
import io.scoreflow.cli.theory.SdeFlags;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The CLI as a user sees it: output shapes, exit codes, one-line errors. */
class CliTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  record Result(int code, String out, String err) {
    JsonNode json() throws Exception {
      return JSON.readTree(out);
    }
  }

  static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Result(code, out.toString(), err.toString());
  }

  private static Set<String> keys(JsonNode node) {
    Set<String> keys = new TreeSet<>();
    node.fieldNames().forEachRemaining(keys::add);
    return keys;
  }

  @Test
  void sdeJsonIsAnArrayOfRowsWithTheDocumentedKeys() throws Exception {
    Result r = run("sde", "--sde", "vp-linear", "--t", "0.25,0.5,1", "--json");
    assertEquals(0, r.code(), r.err());
    JsonNode rows = r.json();
    assertTrue(rows.isArray());
    assertEquals(3, rows.size());
    for (JsonNode row : rows) {
      assertEquals(Set.of("t", "f", "g", "mean_coeff", "variance"), keys(row));
    }
    JsonNode last = rows.get(2);
    assertEquals(1.0, last.get("t").asDouble());
    assertEquals(10.0, last.get("f").asDouble(), 1e-12); // β(1)/2 = 20/2
    assertEquals(Math.sqrt(20), last.get("g").asDouble(), 1e-12);
    double a1 = Math.exp(-0.5 * (0.1 + 0.5 * 19.9));
    assertEquals(a1, last.get("mean_coeff").asDouble(), 1e-15);
    assertEquals(1 - a1 * a1, last.get("variance").asDouble(), 1e-15);
  }

  @Test
  void sdeTextNamesTheParameters() {
    Result r = run("sde", "--sde", "ve-sqrt", "--sigma-max", "10", "--t", "0,1");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().startsWith("ve-sqrt(sigma-min=0.01, sigma-max=10, T=1)"), r.out());
  }

  @Test
  void w2JsonHasTheDocumentedKeys() throws Exception {
    Result r =
        run(
            "theory",
            "w2",
            "--sde",
            "vp-linear",
            "--steps",
            "100",
            "--dim",
            "8",
            "--data-mean",
            "1",
            "--data-std",
            "0.5",
            "--json");
    assertEquals(0, r.code(), r.err());
    JsonNode j = r.json();
    assertTrue(keys(j).containsAll(Set.of("w2", "mean", "std")), keys(j).toString());
    // The same value as the mpmath reference for this case, 0.0198904666694402278...
    assertEquals(0.01989046666944022782, j.get("w2").asDouble(), 1e-14);
    assertEquals(1.005960008435596922587, j.get("mean").asDouble(), 1e-14);
    assertEquals(0.5037325771912483741849, j.get("std").asDouble(), 1e-14);
  }

  @Test
  void complexityJsonHasKAndRow() throws Exception {
    Result r =
        run("theory", "complexity", "--sde", "ve-poly", "--dim", "3072", "--eps", "0.1", "--json");
    assertEquals(0, r.code(), r.err());
    JsonNode j = r.json();
    assertTrue(keys(j).containsAll(Set.of("K", "row")));
    assertEquals(4, j.get("row").asInt());
    assertEquals(9.5, j.get("exponent").asDouble());
    double q = 2 * 9.5 + 1;
    assertEquals(
        Math.pow(3072, 1 / (2 * q) + 1) / Math.pow(0.1, 1 / q + 2), j.get("K").asDouble(), 1e-6);
  }

  @Test
  void sweepWritesAChartAndReportsSlopes(@TempDir Path dir) throws Exception {
    Path png = dir.resolve("plots/sweep.png");
    Result r =
        run(
            "theory",
            "sweep",
            "--sde",
            "vp-linear,vp-poly:rho=3,ve-exp",
            "--steps",
            "10..1000:7",
            "--dim",
            "4",
            "--plot",
            png.toString(),
            "--json");
    assertEquals(0, r.code(), r.err());
    JsonNode j = r.json();
    JsonNode curves = j.get("curves");
    assertEquals(3, curves.size());
    assertEquals("vp-poly:rho=3", curves.get(1).get("label").asText());
    assertEquals(3.0, curves.get(1).get("params").get("rho").asDouble());
    for (JsonNode c : curves) {
      assertEquals(7, c.get("points").size());
      assertTrue(c.get("slope").asDouble() < 0, c.toString());
    }
    BufferedImage image = ImageIO.read(png.toFile());
    assertEquals(1100, image.getWidth());
    assertEquals(700, image.getHeight());
    try (var files = Files.list(png.getParent())) {
      assertEquals(List.of(png), files.toList(), "no temporary file left behind");
    }
  }

  @Test
  void sweepTextTableHasOneRowPerStepCount() {
    Result r =
        run("theory", "sweep", "--sde", "vp-linear,ve-exp", "--steps", "10,100", "--dim", "2");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("slope"));
    assertEquals(2, r.out().lines().filter(l -> l.matches("\\s+(10|100)\\s+.*")).count(), r.out());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "sde --sde vp-linear --beta-min 0 --t 0.5",
        "sde --sde vp-constant --beta -1 --t 0.5",
        "sde --sde vp-linear --beta-min 2 --beta-max 1 --t 0.5",
        "sde --sde ve-exp --sigma-min 5 --sigma-max 5 --t 0.5",
        "sde --sde vp-poly --rho 0 --t 0.5",
        "sde --sde ve-poly --rho -1 --t 0.5",
        "sde --sde vp-linear --T 0 --t 0",
        "sde --sde vp-linear --t 1.5",
        "sde --sde vp-linear --t -0.1",
        "sde --sde nope --t 0.5",
        "sde --sde vp-linear --sigma-max 3 --t 0.5",
        "sde --sde vp-linear --t x",
        "sde --sde vp-linear",
        "sde --sde vp-linear --t 0.5 --config /nonexistent.conf",
        "theory w2 --sde vp-linear --steps 0 --dim 2",
        "theory w2 --sde vp-linear --steps 10 --dim 0",
        "theory w2 --sde vp-linear --steps 10 --dim 2 --data-std -1",
        "theory complexity --sde vp-linear --dim 2 --eps 0",
        "theory complexity --sde generic --f 1 --g 1 --dim 2 --eps 0.1",
        "theory sweep --sde vp-linear --steps 10..5:3 --dim 2",
        "theory sweep --sde vp-linear --steps 10,abc --dim 2",
        "theory sweep --sde vp-linear,ve-exp --rho 2 --steps 10 --dim 2",
        "theory sweep --sde vp-poly:rho --steps 10 --dim 2",
        "theory nonsense"
      })
  void badInputIsOneLineAndExitCodeTwo(String line) {
    Result r = run(line.split(" "));
    assertEquals(2, r.code(), line + " -> " + r.err());
    assertTrue(r.err().startsWith("scoreflow: error: "), r.err());
    assertEquals(1, r.err().lines().count(), "one line: " + r.err());
    assertFalse(r.err().contains("Exception"), "no stack trace: " + r.err());
    assertEquals("", r.out());
  }

  /** The path of every command that takes {@code --sde}, e.g. {@code [theory, w2]}. */
  static List<List<String>> commandsTakingAnSde() {
    List<List<String>> paths = new java.util.ArrayList<>();
    collect(new picocli.CommandLine(new Main()), List.of(), paths);
    return paths;
  }

  private static void collect(
      picocli.CommandLine command, List<String> path, List<List<String>> paths) {
    if (command.getCommandSpec().findOption("--sde") != null) {
      paths.add(path);
    }
    command
        .getSubcommands()
        .forEach(
            (name, sub) -> {
              if (!sub.getCommandSpec().name().equals(name)) {
                return; // an alias
              }
              List<String> subPath = new java.util.ArrayList<>(path);
              subPath.add(name);
              collect(sub, subPath, paths);
            });
  }

  @Test
  void theCommandsTakingAnSdeAreFound() {
    var paths = commandsTakingAnSde();
    assertTrue(paths.contains(List.of("sde")), paths.toString());
    assertTrue(paths.contains(List.of("theory", "w2")), paths.toString());
    assertTrue(paths.size() >= 5, paths.toString());
  }

  /**
   * The help of every command taking {@code --sde} lists exactly the registry's schedules, in its
   * order, each with its defaults; offers every parameter as a flag; and names no schedule the
   * registry lacks anywhere else in its text.
   */
  @ParameterizedTest
  @org.junit.jupiter.params.provider.MethodSource("commandsTakingAnSde")
  void helpListsExactlyTheRegistrysSchedules(List<String> command) {
    List<String> args = new java.util.ArrayList<>(command);
    args.add("--help");
    Result r = run(args.toArray(String[]::new));
    assertEquals(0, r.code(), r.err());
    String help = r.out();
    List<String> lines = help.lines().toList();
    int heading = lines.indexOf(SdeFlags.HEADING);
    assertTrue(heading >= 0, "no SDE list in: " + help);
    List<String> listed = new java.util.ArrayList<>();
    for (String line : lines.subList(heading + 1, lines.size())) {
      if (!line.startsWith("  ")) {
        break;
      }
      listed.add(line);
    }
    List<io.scoreflow.sde.Schedule> registry = List.of(io.scoreflow.sde.Schedule.values());
    assertEquals(
        registry.stream().map(io.scoreflow.sde.Schedule::id).toList(),
        listed.stream().map(l -> l.trim().split("\\s+")[0]).toList(),
        help);
    for (int i = 0; i < registry.size(); i++) {
      var schedule = registry.get(i);
      for (var p : schedule.numbers()) {
        String shown = p.key() + "=" + Describe.number(p.defaultValue());
        assertTrue(listed.get(i).contains(shown), listed.get(i) + " lacks " + shown);
        assertTrue(help.contains("--" + p.key() + "="), "no flag --" + p.key() + " in " + help);
      }
      for (String key : schedule.expressionKeys()) {
        assertTrue(listed.get(i).contains("--" + key), listed.get(i) + " lacks --" + key);
        assertTrue(help.contains("--" + key + "="), "no flag --" + key + " in " + help);
      }
    }
    Set<String> known =
        new TreeSet<>(registry.stream().map(io.scoreflow.sde.Schedule::id).toList());
    var named = java.util.regex.Pattern.compile("\\b(?:vp|ve)-[a-z0-9]+\\b").matcher(help);
    while (named.find()) {
      assertTrue(known.contains(named.group()), "help names " + named.group() + ": " + help);
    }
  }

  @Test
  void configFileOverridesDefaults(@TempDir Path dir) throws Exception {
    Path conf = dir.resolve("my.conf");
    Files.writeString(conf, "scoreflow.sde.vp-linear.beta-max = 10\n");
    Result r = run("sde", "--sde", "vp-linear", "--t", "1", "--config", conf.toString(), "--json");
    assertEquals(0, r.code(), r.err());
    assertEquals(5.0, r.json().get(0).get("f").asDouble(), 1e-12);
  }

  @ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource({
    "ddpmpp, false, 0, 61804419",
    "ddpmpp, true, 0, 106632579",
    "ncsnpp, false, 0, 62758915",
    "ncsnpp, true, 0, 107587075",
    "ddpmpp, false, 32, 3881955",
    "ncsnpp, false, 32, 3942403"
  })
  void modelSummaryCountsEveryParameter(String arch, boolean deep, int nf, long params)
      throws Exception {
    List<String> args =
        new java.util.ArrayList<>(List.of("model", "summary", "--arch", arch, "--json"));
    if (deep) {
      args.add("--deep");
    }
    if (nf > 0) {
      args.addAll(List.of("--nf", Integer.toString(nf)));
    }
    Result r = run(args.toArray(String[]::new));
    assertEquals(0, r.code(), r.err());
    assertEquals(params, r.json().get("params").asLong());
  }

  @Test
  void modelForwardReproducesTheGoldenOutput(@TempDir Path dir) throws Exception {
    Path golden = Path.of("../common/src/test/resources/golden");
    Path out = dir.resolve("out.safetensors");
    Result r =
        run(
            "model",
            "forward",
            "--arch",
            "ncsnpp",
            "--nf",
            "32",
            "--weights",
            golden.resolve("ncsnpp_weights.safetensors").toString(),
            "--input",
            golden.resolve("ncsnpp_io.safetensors").toString(),
            "--output",
            out.toString());
    assertEquals(0, r.code(), r.err());
    try (var manager = ai.djl.ndarray.NDManager.newBaseManager()) {
      var actual = io.scoreflow.model.Weights.read(manager, out).get("out");
      var expected =
          io.scoreflow.model.Weights.read(manager, golden.resolve("ncsnpp_io.safetensors"))
              .get("out");
      double maxOut = expected.abs().max().getFloat();
      double maxDiff = actual.sub(expected).abs().max().getFloat();
      assertTrue(maxDiff <= 1e-4 * maxOut, "max|dout| " + maxDiff + " vs max|out| " + maxOut);
    }
    Result wrong =
        run(
            "model",
            "forward",
            "--arch",
            "ddpmpp",
            "--nf",
            "32",
            "--weights",
            golden.resolve("ncsnpp_weights.safetensors").toString(),
            "--input",
            golden.resolve("ncsnpp_io.safetensors").toString(),
            "--output",
            dir.resolve("x.safetensors").toString());
    assertEquals(2, wrong.code());
    assertTrue(wrong.err().contains("do not fit this network"), wrong.err());
    assertFalse(Files.exists(dir.resolve("x.safetensors")), "nothing written on refusal");
  }

  @Test
  void benchStepPrintsItsBaselineAndRatio() throws Exception {
    Result r =
        run(
            "bench",
            "step",
            "--arch",
            "tiny-ddpmpp",
            "--nf",
            "8",
            "--batch",
            "2",
            "--warmup",
            "1",
            "--repeats",
            "2",
            "--json");
    assertEquals(0, r.code(), r.err());
    JsonNode j = r.json();
    for (String key :
        List.of(
            "step_ms", "images_per_second", "baseline_forward_backward_ms", "step_over_baseline")) {
      assertTrue(j.get(key).asDouble() > 0, key + " in " + j);
    }
  }
}
