package io.scoreflow.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.scoreflow.InvalidInputException;
import io.scoreflow.config.ConfigValues.Kind;
import io.scoreflow.sde.Schedule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/** reference.conf as the one schema of a config: unknown keys and values of the wrong kind. */
class ConfigSchemaTest {

  private static InvalidInputException refused(String hocon, Path dir) throws Exception {
    Path file = dir.resolve("job.conf");
    Files.writeString(file, hocon);
    return assertThrows(
        InvalidInputException.class, () -> Configs.load(file.toString(), List.of()));
  }

  private static InvalidInputException refusedSet(String set) {
    return assertThrows(InvalidInputException.class, () -> Configs.load("quick-cpu", List.of(set)));
  }

  static List<String> presets() {
    return Configs.presets();
  }

  @ParameterizedTest
  @MethodSource("presets")
  void everyPresetLoads(String preset) {
    Config c = Configs.load(preset, List.of());
    assertEquals(preset, c.getString("scoreflow.job.name"));
  }

  @Test
  void aMisspeltKeyInAFileIsAnErrorWithTheNearestKey(@TempDir Path dir) throws Exception {
    InvalidInputException e = refused("scoreflow {\n  train { batch-sizee = 32 }\n}\n", dir);
    assertEquals(
        "unknown config key scoreflow.train.batch-sizee ("
            + dir.resolve("job.conf")
            + ":2); did you mean scoreflow.train.batch-size?",
        e.getMessage());
  }

  @Test
  void aMisspeltKeyOfSetIsAnError() {
    // (scoreflow.cluster is the coordinator module's, not on this module's class path.)
    String nope = refusedSet("scoreflow.nope=1").getMessage();
    assertTrue(nope.startsWith("unknown config key scoreflow.nope (--set); scoreflow has "), nope);
    assertTrue(nope.endsWith("data, eval, job, model, sample, sde, train"), nope);
    assertEquals(
        "unknown config key scoreflow.train.lr (--set); did you mean scoreflow.train.optim.lr?",
        refusedSet("scoreflow.train.lr=1e-3").getMessage());
    assertEquals(
        "unknown config key scoreflow.trian (--set); did you mean scoreflow.train?",
        refusedSet("scoreflow.trian.steps=3").getMessage());
  }

  @Test
  void onlyTheScoreflowTreeIsAConfig(@TempDir Path dir) throws Exception {
    assertTrue(
        refusedSet("pekko.loglevel=DEBUG")
            .getMessage()
            .startsWith("unknown top-level config key pekko (--set): a config sets only"),
        refusedSet("pekko.loglevel=DEBUG").getMessage());
    InvalidInputException e = refused("scorflow.train.steps = 3\n", dir);
    assertTrue(e.getMessage().endsWith(":1); did you mean scoreflow?"), e.getMessage());
  }

  @Test
  void manyProblemsAreOneLineNamingTheFirstInFileOrder(@TempDir Path dir) throws Exception {
    InvalidInputException e =
        refused(
            "scoreflow {\n  train.batch-size = \"abc\"\n  train.stesp = 3\n  eval.every = x\n}\n",
            dir);
    assertTrue(
        e.getMessage()
            .startsWith("scoreflow.train.batch-size = \"abc\": expected a whole number ("),
        e.getMessage());
    assertTrue(e.getMessage().endsWith(":2) (and 2 more problems)"), e.getMessage());
    assertEquals(1, e.getMessage().lines().count());
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "scoreflow.train.batch-size=abc      | scoreflow.train.batch-size = \"abc\": expected a"
            + " whole number (--set)",
        "scoreflow.train.batch-size=3.5      | scoreflow.train.batch-size = 3.5: expected a whole"
            + " number (--set)",
        "scoreflow.train.eps=small           | scoreflow.train.eps = \"small\": expected a number"
            + " (--set)",
        "scoreflow.train.eps=NaN             | scoreflow.train.eps = \"NaN\": expected a number"
            + " (--set)",
        "scoreflow.data.random-flip=maybe    | scoreflow.data.random-flip = \"maybe\": expected true"
            + " or false (--set)",
        "scoreflow.eval.poll=soon            | scoreflow.eval.poll = \"soon\": expected a duration"
            + " with a unit, such as 30s or 10m (--set)",
        "scoreflow.eval.poll=5               | scoreflow.eval.poll = 5: expected a duration with a"
            + " unit, such as 30s or 10m (--set)",
        "scoreflow.eval.poll=-1s             | scoreflow.eval.poll = \"-1s\": expected a duration"
            + " with a unit, such as 30s or 10m (--set)",
        "scoreflow.job.name=[a]              | scoreflow.job.name = [\"a\"]: expected a string"
            + " (--set)",
        "scoreflow.train=3                   | scoreflow.train = 3: expected a block of keys { ..."
            + " } (--set)",
        "scoreflow.train.optim.lr=null       | scoreflow.train.optim.lr = null: expected a number"
            + " (--set)",
      })
  void aValueOfTheWrongKindNamesTheKeyTheValueAndWhatItTakes(String set, String message) {
    assertEquals(message, refusedSet(set).getMessage());
  }

  @ParameterizedTest
  @CsvSource({
    "scoreflow.train.batch-size=\"32\"",
    "scoreflow.train.log-every=10.0",
    "scoreflow.data.gaussian.std=0.5",
    "scoreflow.data.gaussian.mean=2",
    "scoreflow.data.random-flip=off",
    "scoreflow.eval.poll=500ms",
    "scoreflow.eval.poll=0",
    "scoreflow.job.name=42",
    "scoreflow.model.nf=8",
    "'scoreflow.model.ch-mult=[1,2]'",
    "scoreflow.sde.rho=3",
  })
  void valuesHoconReadsAsTheKindAreAccepted(String set) {
    Configs.load("quick-cpu", List.of(set));
  }

  @Test
  void theKindsComeFromTheDefaults() {
    Config r = ConfigFactory.defaultReference();
    assertEquals(Kind.WHOLE, ConfigSchema.kindOf(r.getValue("scoreflow.train.batch-size")));
    assertEquals(Kind.NUMBER, ConfigSchema.kindOf(r.getValue("scoreflow.train.eps")));
    assertEquals(Kind.NUMBER, ConfigSchema.kindOf(r.getValue("scoreflow.data.gaussian.std")));
    assertEquals(Kind.BOOLEAN, ConfigSchema.kindOf(r.getValue("scoreflow.data.random-flip")));
    assertEquals(Kind.DURATION, ConfigSchema.kindOf(r.getValue("scoreflow.eval.poll")));
    assertEquals(Kind.STRING, ConfigSchema.kindOf(r.getValue("scoreflow.eval.inception")));
    assertEquals(Kind.STRING, ConfigSchema.kindOf(r.getValue("scoreflow.job.name")));
    assertEquals(Kind.ANY, ConfigSchema.kindOf(r.getObject("scoreflow.model").get("nf")));
  }

  /** The parameters that may sit next to sde.name are exactly the registry's. */
  @Test
  void theSdeKeysNextToTheNameAreTheRegistrysParameters() {
    Set<String> expected = new TreeSet<>();
    for (Schedule s : Schedule.values()) {
      s.parameterKeys().forEach(k -> expected.add("scoreflow.sde." + k));
      s.expressionKeys().forEach(k -> expected.add("scoreflow.sde." + k));
    }
    Set<String> declared = new TreeSet<>();
    Config r = ConfigFactory.defaultReference();
    for (String key : ConfigSchema.reference().keys()) {
      if (key.matches("scoreflow\\.sde\\.[^.]+")
          && !key.equals("scoreflow.sde.name")
          && !key.equals("scoreflow.sde.horizon")) {
        assertFalse(r.hasPath(key), key + " is an optional override: null in reference.conf");
        declared.add(key);
      }
    }
    assertEquals(expected, declared);
  }

  @Test
  void theTypedReadersShareTheWording() {
    Config c = ConfigFactory.parseString("a { n = abc, l = [1, x], d = 10, b = 2 }");
    assertEquals(
        "a.n = \"abc\": expected a whole number",
        assertThrows(InvalidInputException.class, () -> ConfigValues.wholeInt(c, "a.n"))
            .getMessage()
            .replaceAll(" \\(.*\\)$", ""));
    assertTrue(
        assertThrows(InvalidInputException.class, () -> ConfigValues.wholeList(c, "a.l"))
            .getMessage()
            .startsWith("a.l = [1,\"x\"]: expected a list of whole numbers"));
    assertTrue(
        assertThrows(InvalidInputException.class, () -> ConfigValues.bool(c, "a.b"))
            .getMessage()
            .startsWith("a.b = 2: expected true or false"));
    assertEquals(
        "a.missing is missing",
        assertThrows(InvalidInputException.class, () -> ConfigValues.number(c, "a.missing"))
            .getMessage());
    assertEquals(
        Duration.ofSeconds(10), ConfigValues.duration(ConfigFactory.parseString("d = 10s"), "d"));
  }

  @Test
  void theNearestKeyIsWithinAFewEdits() {
    ConfigSchema schema = ConfigSchema.reference();
    assertEquals(
        "scoreflow.train.keep-checkpoints",
        schema.suggest(List.of("scoreflow", "train", "keep-checkpoint")).orElseThrow());
    assertEquals(
        "scoreflow.model.mlp.hidden",
        schema.suggest(List.of("scoreflow", "model", "hidden")).orElseThrow());
    assertTrue(schema.suggest(List.of("scoreflow", "train", "something-else")).isEmpty());
    assertEquals(1, ConfigSchema.distance("trian", "train"));
    assertEquals(1, ConfigSchema.distance("batch-sizee", "batch-size"));
  }
}
