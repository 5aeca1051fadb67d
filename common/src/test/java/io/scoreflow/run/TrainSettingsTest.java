package io.scoreflow.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.scoreflow.InvalidInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The typed {@code scoreflow.train} settings and the elastic-batch rule. */
class TrainSettingsTest {

  /** {@code scoreflow.train} with {@code hocon} over reference.conf, as Configs.load gives it. */
  private static Config with(String hocon) {
    return ConfigFactory.parseString(hocon)
        .withFallback(ConfigFactory.defaultReference())
        .resolve();
  }

  @Test
  void theDefaultsAreReferenceConfs() {
    assertEquals(
        new TrainSettings(42, 1300001, 128, 1e-5, 0.9999, 50, 10000, 3),
        TrainSettings.of(with("")));
  }

  @Test
  void valuesGivenAsHoconReadsThemStillCount() {
    // Config.getInt took a quoted number and an integral double; the typed settings still do.
    TrainSettings s =
        TrainSettings.of(with("scoreflow.train { batch-size = \"32\", log-every = 10.0 }"));
    assertEquals(32, s.batchSize());
    assertEquals(10, s.logEvery());
  }

  @Test
  void aBatchSizeThatIsNotANumberIsOneLineNamingTheKey() {
    InvalidInputException e =
        assertThrows(
            InvalidInputException.class,
            () -> TrainSettings.of(with("scoreflow.train.batch-size = abc")));
    assertEquals(
        "scoreflow.train.batch-size = \"abc\": expected a whole number from 1 to 2147483647",
        e.getMessage().replaceAll(" \\(.*\\)$", ""));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "batch-size = 0            | scoreflow.train.batch-size = 0: expected a whole number from 1",
        "batch-size = -4           | scoreflow.train.batch-size = -4: expected a whole number",
        "batch-size = 3.5          | scoreflow.train.batch-size = 3.5: expected a whole number",
        "batch-size = [1, 2]       | scoreflow.train.batch-size = [1,2]: expected a whole number",
        "batch-size = 3000000000   | scoreflow.train.batch-size = 3000000000: expected a whole",
        "log-every = 0             | scoreflow.train.log-every = 0: expected a whole number from 1",
        "checkpoint-every = often  | scoreflow.train.checkpoint-every = \"often\": expected a whole",
        "keep-checkpoints = 0      | scoreflow.train.keep-checkpoints = 0: expected a whole number",
        "steps = -1                | scoreflow.train.steps = -1: expected a whole number >= 0",
        "seed = x                  | scoreflow.train.seed = \"x\": expected a whole number",
        "eps = small               | scoreflow.train.eps = \"small\": expected a number",
        "eps = 0                   | scoreflow.train.eps = 0.0: expected a number > 0",
        "ema-rate = 1              | scoreflow.train.ema-rate = 1.0: expected a number in [0, 1)",
        "ema-rate = {a = 1}        | scoreflow.train.ema-rate = {\"a\":1}: expected a number",
      })
  void eachBadValueIsOneErrorNamingItsKey(String setting, String message) {
    InvalidInputException e =
        assertThrows(
            InvalidInputException.class,
            () -> TrainSettings.of(with("scoreflow.train." + setting)));
    assertTrue(e.getMessage().startsWith(message), e.getMessage());
    assertEquals(1, e.getMessage().lines().count(), e.getMessage());
  }

  @Test
  void aMissingKeyIsNamed() {
    Config without = with("").withoutPath("scoreflow.train.ema-rate");
    InvalidInputException e =
        assertThrows(InvalidInputException.class, () -> TrainSettings.of(without));
    assertEquals("scoreflow.train.ema-rate is missing", e.getMessage());
  }

  @Test
  void theBatchSplitsOnlyEvenly() {
    TrainSettings s = TrainSettings.of(with("scoreflow.train.batch-size = 12"));
    assertEquals(4, s.shard(3));
    assertEquals(12, s.shard(1));
    InvalidInputException e = assertThrows(InvalidInputException.class, () -> s.shard(5));
    assertEquals(
        "scoreflow.train.batch-size 12 is not divisible by 5 workers (each needs an equal shard)",
        e.getMessage());
    assertEquals(8, s.withBatchSize(8).batchSize());
    assertEquals(s, s.withBatchSize(8).withBatchSize(12));
  }

  @Test
  void elasticBatchIsKeepOrScaleAndKeepWhenAbsent() {
    assertEquals(ElasticBatch.KEEP, ElasticBatch.of(with("")));
    assertEquals(
        ElasticBatch.KEEP, ElasticBatch.of(with("scoreflow.cluster.elastic-batch = keep")));
    assertEquals(
        ElasticBatch.SCALE, ElasticBatch.of(with("scoreflow.cluster.elastic-batch = scale")));
    InvalidInputException e =
        assertThrows(
            InvalidInputException.class,
            () -> ElasticBatch.of(with("scoreflow.cluster.elastic-batch = grow")));
    assertEquals(
        "scoreflow.cluster.elastic-batch must be keep (the global batch split over the ring) or"
            + " scale (each rank keeps its shard), got 'grow'",
        e.getMessage());
  }

  /** A batch of 12 asked of 3 workers, on rings of 1..6. */
  @ParameterizedTest
  @CsvSource({
    // ring, keep, scale
    "3, 12, 12",
    "2, 12, 8",
    "1, 12, 4",
    "4, 12, 16",
    "5, 12, 20",
    "6, 12, 24",
  })
  void keepHoldsTheGlobalBatchScaleHoldsTheShard(int ring, int keep, int scale) {
    assertEquals(keep, ElasticBatch.KEEP.globalBatch(12, 3, ring));
    assertEquals(scale, ElasticBatch.SCALE.globalBatch(12, 3, ring));
    // Under scale every ring splits its batch into the same shard of 4.
    assertEquals(4, TrainSettings.shard(ElasticBatch.SCALE.globalBatch(12, 3, ring), ring));
  }

  @Test
  void underKeepARingThatDoesNotDivideTheBatchHasNoEvenShard() {
    // The coordinator cuts such a ring (Ring.form) to the largest size that divides the batch.
    int batch = ElasticBatch.KEEP.globalBatch(12, 3, 5);
    assertEquals(12, batch);
    assertThrows(InvalidInputException.class, () -> TrainSettings.shard(batch, 5));
    assertEquals(3, TrainSettings.shard(batch, 4));
  }

  @Test
  void onlyScaleLetsTheBatchFollowTheRing() {
    assertTrue(ElasticBatch.SCALE.batchFollowsRing());
    assertTrue(!ElasticBatch.KEEP.batchFollowsRing());
  }
}
