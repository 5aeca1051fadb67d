package io.scoreflow.bench;

import ai.djl.ndarray.NDManager;
import io.scoreflow.model.Ncsnpp;
import io.scoreflow.model.ScoreNetConfig;
import io.scoreflow.model.ScoreNetworks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Prints benchmark JSON; runs only with {@code -Dscoreflow.bench=true} (e.g. {@code mvn -o -pl
 * deploy -am test -Dtest=BenchmarkRun -Dsurefire.failIfNoSpecifiedTests=false
 * -Dscoreflow.bench=true}).
 */
@EnabledIfSystemProperty(named = "scoreflow.bench", matches = "true")
class BenchmarkRun {

  @Test
  void tinyUnetFashionMnist() {
    try (NDManager m = NDManager.newBaseManager()) {
      Ncsnpp net = ScoreNetworks.build(ScoreNetConfig.tinyDdpmpp(28, 1), m);
      int steps = Integer.getInteger("scoreflow.bench.steps", 10);
      System.out.println(ModelBenchmark.run(net, "tiny-ddpmpp-28x28x1", 32, 5, steps, m).toJson());
    }
  }

  @Test
  void reducedCifarNets() {
    try (NDManager m = NDManager.newBaseManager()) {
      int steps = Integer.getInteger("scoreflow.bench.steps", 10);
      Ncsnpp ddpm = ScoreNetworks.build(ScoreNetConfig.ddpmppCont().withNf(32), m);
      System.out.println(ModelBenchmark.run(ddpm, "ddpmpp-cont-nf32", 32, 3, steps, m).toJson());
      Ncsnpp ncsn = ScoreNetworks.build(ScoreNetConfig.ncsnppCont().withNf(32), m);
      System.out.println(ModelBenchmark.run(ncsn, "ncsnpp-cont-nf32", 32, 3, steps, m).toJson());
    }
  }
}
