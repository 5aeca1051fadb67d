package io.scoreflow.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Parameter counts of the reference configurations, from the block structure alone. */
class ParameterCountTest {

  private static void assertCounts(ScoreNetConfig c, long params, long trainable) {
    ModelSummary s = ScoreNetworks.summary(c);
    assertEquals(params, s.params(), c.name() + " nf=" + c.nf() + " params");
    assertEquals(trainable, s.trainableParams(), c.name() + " nf=" + c.nf() + " trainable");
  }

  @Test
  void ddpmppContinuous() {
    assertCounts(ScoreNetConfig.ddpmppCont(), 61_804_419L, 61_804_419L);
    assertCounts(ScoreNetConfig.ddpmppContDeep(), 106_632_579L, 106_632_579L);
    assertCounts(ScoreNetConfig.ddpmppCont().withNf(32), 3_881_955L, 3_881_955L);
  }

  @Test
  void ncsnppContinuous() {
    assertCounts(ScoreNetConfig.ncsnppCont(), 62_758_915L, 62_758_787L);
    assertCounts(ScoreNetConfig.ncsnppContDeep(), 107_587_075L, 107_587_075L - 128);
    assertCounts(ScoreNetConfig.ncsnppCont().withNf(32), 3_942_403L, 3_942_403L - 32);
  }

  @Test
  void cliArchitectureNames() {
    assertEquals(
        61_804_419L, ScoreNetworks.summary(ScoreNetConfig.forArch("ddpmpp", false, 0)).params());
    assertEquals(
        3_942_403L, ScoreNetworks.summary(ScoreNetConfig.forArch("ncsnpp", false, 32)).params());
    assertEquals(
        107_587_075L, ScoreNetworks.summary(ScoreNetConfig.forArch("NCSNPP", true, 128)).params());
  }

  @Test
  void summaryJsonHasParamsKey() {
    String json = ScoreNetworks.summary(ScoreNetConfig.ddpmppCont().withNf(32)).toJson();
    assertEquals(true, json.contains("\"params\":3881955"), json);
  }
}
