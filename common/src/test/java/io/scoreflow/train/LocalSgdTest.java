package io.scoreflow.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.typesafe.config.ConfigFactory;
import io.scoreflow.InvalidInputException;
import io.scoreflow.data.BatchStream;
import io.scoreflow.data.GaussianData;
import io.scoreflow.model.MlpConfig;
import io.scoreflow.model.ScoreNetworks;
import io.scoreflow.run.Parametrisation;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Local SGD's schedule and state in one replica (a world of one: DJL allows one gradient collector
 * per JVM, so two replicas need two processes, which {@code DistributedTrainCliTest} runs): when it
 * exchanges, what a checkpoint holds, and that resuming from it is exact. Each exchange goes
 * through a reducer that records what it was given.
 */
class LocalSgdTest {

  private static final int STEPS = 12;
  private static final long CHECKPOINT_AFTER = 5;

  private static Synchronisation nesterov() {
    return new Synchronisation.Local(
        4, new Synchronisation.Outer(Synchronisation.Outer.Kind.NESTEROV, 0.7, 0.9));
  }

  private static Trainer trainer(NDManager manager, GradientReducer reducer, Synchronisation s) {
    GaussianData data =
        GaussianData.builder().dimension(4).mean(1).std(0.5).seed(3).size(1024).build();
    return Trainer.builder()
        .network(ScoreNetworks.build(MlpConfig.of(4), manager))
        .objective(
            new DsmObjective(
                TrainerTest.vpLinear(), new Parametrisation.NoisePrediction(), 1e-5, 3))
        .stream(BatchStream.builder().dataset(data).globalBatchSize(16).seed(3).build())
        .adam(new AdamOptions(1e-2, 0.9, 0.999, 1e-8, 0, 1.0))
        .emaRate(0.9)
        .seed(3)
        .reducer(reducer, 0)
        .synchronisation(s)
        .checksums(true)
        .manager(manager)
        .build();
  }

  /** Checksums by step (null where not synchronised), final parameters, the checkpoint's state. */
  record Run(List<String> checksums, List<Long> exchangedSizes, float[] end, TrainState saved) {}

  private static Run run(Synchronisation s, TrainState start) {
    List<Long> sizes = new ArrayList<>();
    GradientReducer recording =
        (flat, step, scope) -> {
          sizes.add(flat.size());
          return flat;
        };
    try (NDManager manager = NDManager.newBaseManager();
        Trainer t = trainer(manager, recording, s)) {
      if (start != null) {
        start.restoreInto(t);
      }
      List<String> sums = new ArrayList<>();
      TrainState saved = null;
      while (t.step() < STEPS) {
        long step = t.step();
        StepResult r = t.runStep(step == CHECKPOINT_AFTER);
        sums.add(r.checksum() == null ? null : r.checksum().hex());
        if (step == CHECKPOINT_AFTER) {
          saved = TrainState.capture(t);
        }
      }
      try (NDManager scope = manager.newSubManager()) {
        return new Run(sums, sizes, t.parameters().values(scope).toFloatArray(), saved);
      }
    }
  }

  @Test
  void exchangesEveryHStepsAndAtCheckpointsWithTheWholeStateThere() {
    Run r = run(nesterov(), null);
    long n;
    try (NDManager manager = NDManager.newBaseManager();
        Trainer t = trainer(manager, GradientReducer.LOCAL, nesterov())) {
      n = t.parameters().size();
    }
    // Steps 3, 7, 11 by the schedule send the parameter change; step 5, before a checkpoint, also
    // Adam's two moments and the EMA: 4 exchanges in 12 steps instead of 12.
    assertEquals(List.of(n, 4 * n, n, n), r.exchangedSizes());
    for (int step = 0; step < STEPS; step++) {
      boolean synchronised = step == 3 || step == 5 || step == 7 || step == 11;
      if (synchronised) {
        assertNotNull(r.checksums().get(step), "step " + step);
      } else {
        assertNull(r.checksums().get(step), "step " + step + " is not synchronised");
      }
    }
    assertFalse(r.saved().outer().isEmpty(), "nesterov's momentum is in the checkpoint");
    assertTrue(
        r.saved().outer().get(0).name().startsWith("outer_momentum."),
        r.saved().outer().get(0).name());
    // Plain averaging keeps no outer state.
    assertTrue(
        run(new Synchronisation.Local(4, Synchronisation.Outer.AVERAGE), null)
            .saved()
            .outer()
            .isEmpty());
  }

  @Test
  void aRunResumedFromTheCheckpointEndsBitForBitWhereTheUninterruptedOneDoes() {
    Run whole = run(nesterov(), null);
    assertEquals(CHECKPOINT_AFTER + 1, whole.saved().nextStep());
    Run resumed = run(nesterov(), whole.saved());
    assertArrayEquals(whole.end(), resumed.end(), 0f);
    assertEquals(whole.checksums().get(STEPS - 1), resumed.checksums().get(STEPS - 7));
  }

  @Test
  void theOuterOptimizerMattersAndEveryStepExchangesTheGradientAtEveryStep() {
    Run every = run(Synchronisation.EVERY_STEP, null);
    assertEquals(STEPS, every.exchangedSizes().size());
    Run average = run(new Synchronisation.Local(4, Synchronisation.Outer.AVERAGE), null);
    Run momentum = run(nesterov(), null);
    assertFalse(java.util.Arrays.equals(average.end(), momentum.end()), "the outer optimizer");
    // In a world of one, averaging returns each replica's own parameters: θ₀ − (θ₀ − θ), which is θ
    // up to rounding.
    for (int i = 0; i < every.end().length; i++) {
      assertEquals(every.end()[i], average.end()[i], 1e-5 * (1 + Math.abs(every.end()[i])));
    }
  }

  @Test
  void theConfigNamesTheScheduleAndBadValuesAreOneLine() {
    assertEquals(Synchronisation.EVERY_STEP, Synchronisation.of(ConfigFactory.empty()));
    var local =
        Synchronisation.of(
            ConfigFactory.parseString(
                "scoreflow.cluster { sync = \"local:8\", outer { optimizer = nesterov, lr = 0.7,"
                    + " momentum = 0.9 } }"));
    assertEquals(nesterov().getClass(), local.getClass());
    assertEquals(8, ((Synchronisation.Local) local).steps());
    assertEquals("local:8 (nesterov lr 0.7 momentum 0.9)", local.toString());
    for (String bad : List.of("sometimes", "local:", "local:x", "local:0")) {
      InvalidInputException e =
          assertThrows(
              InvalidInputException.class,
              () ->
                  Synchronisation.of(
                      ConfigFactory.parseString("scoreflow.cluster.sync = \"" + bad + "\"")));
      assertTrue(e.getMessage().startsWith("scoreflow.cluster.sync"), e.getMessage());
    }
  }
}
