package io.scoreflow.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import io.scoreflow.data.BatchStream;
import io.scoreflow.data.GaussianData;
import io.scoreflow.model.MlpConfig;
import io.scoreflow.model.ScoreNetworks;
import io.scoreflow.run.Parametrisation;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The delayed mode ({@code scoreflow.cluster.sync = delayed}) in one replica (DJL allows one
 * gradient collector per JVM; two replicas run as processes in {@code DistributedTrainCliTest}):
 * step t's exchange runs on the exchange thread while step t+1 computes, step t+1 applies it, a
 * checkpoint step drains the pipeline, and resuming from a checkpoint is exact.
 */
class DelayedGradientTest {

  private static final int STEPS = 10;
  private static final long CHECKPOINT_AFTER = 5;

  private static Trainer trainer(NDManager manager, GradientReducer reducer, Synchronisation s) {
    GaussianData data =
        GaussianData.builder().dimension(4).mean(1).std(0.5).seed(5).size(1024).build();
    return Trainer.builder()
        .network(ScoreNetworks.build(MlpConfig.of(4), manager))
        .objective(
            new DsmObjective(
                TrainerTest.vpLinear(), new Parametrisation.NoisePrediction(), 1e-5, 5))
        .stream(BatchStream.builder().dataset(data).globalBatchSize(16).seed(5).build())
        .adam(new AdamOptions(1e-2, 0.9, 0.999, 1e-8, 0, 1.0))
        .emaRate(0.9)
        .seed(5)
        .reducer(reducer, 0)
        .synchronisation(s)
        .checksums(true)
        .manager(manager)
        .build();
  }

  /** Which thread exchanged each step's gradient, the parameters after each step, the state. */
  record Run(List<String> threads, List<float[]> parameters, TrainState saved) {}

  private static Run run(Synchronisation s, TrainState start, int steps) {
    List<String> threads = Collections.synchronizedList(new ArrayList<>());
    GradientReducer recording =
        (flat, step, scope) -> {
          threads.add(step + ":" + Thread.currentThread().getName());
          return flat;
        };
    try (NDManager manager = NDManager.newBaseManager();
        Trainer t = trainer(manager, recording, s)) {
      if (start != null) {
        start.restoreInto(t);
      }
      List<float[]> params = new ArrayList<>();
      TrainState saved = null;
      while (t.step() < steps) {
        long step = t.step();
        t.runStep(step == CHECKPOINT_AFTER || step == steps - 1);
        try (NDManager scope = manager.newSubManager()) {
          params.add(t.parameters().values(scope).toFloatArray());
        }
        if (step == CHECKPOINT_AFTER) {
          saved = TrainState.capture(t);
        }
      }
      return new Run(List.copyOf(threads), params, saved);
    }
  }

  @Test
  void eachGradientIsExchangedOnTheExchangeThreadAndAppliedOneStepLater() {
    Run delayed = run(Synchronisation.DELAYED, null, STEPS);
    Run every = run(Synchronisation.EVERY_STEP, null, STEPS);
    String main = Thread.currentThread().getName();
    List<String> expected = new ArrayList<>();
    for (int step = 0; step < STEPS; step++) {
      boolean drained = step == CHECKPOINT_AFTER || step == STEPS - 1;
      expected.add(step + ":" + (drained ? main : "gradient-exchange-rank-0"));
    }
    assertEquals(expected, delayed.threads());
    // Step 0 applies nothing; step 1 applies step 0's gradient, computed at the same parameters and
    // data as the synchronous run's step 0, with the same learning rate: the same parameters.
    float[] initial;
    try (NDManager manager = NDManager.newBaseManager();
        Trainer t = trainer(manager, GradientReducer.LOCAL, Synchronisation.EVERY_STEP);
        NDManager scope = manager.newSubManager()) {
      initial = t.parameters().values(scope).toFloatArray();
    }
    assertArrayEquals(initial, delayed.parameters().get(0), 0f, "step 0 applies nothing");
    assertArrayEquals(every.parameters().get(0), delayed.parameters().get(1), 0f);
    // Later steps use stale gradients: another algorithm.
    assertTrue(
        !java.util.Arrays.equals(every.parameters().get(2), delayed.parameters().get(3)),
        "staleness changes the trajectory");
    // The checkpoint step applied the pending gradient and its own: every gradient computed so far.
    assertEquals(CHECKPOINT_AFTER + 1, delayed.saved().adamUpdates());
  }

  @Test
  void aRunResumedFromTheCheckpointEndsBitForBitWhereTheUninterruptedOneDoes() {
    Run whole = run(Synchronisation.DELAYED, null, STEPS);
    Run resumed = run(Synchronisation.DELAYED, whole.saved(), STEPS);
    assertEquals(STEPS - CHECKPOINT_AFTER - 1, resumed.parameters().size());
    assertArrayEquals(
        whole.parameters().get(STEPS - 1),
        resumed.parameters().get(resumed.parameters().size() - 1),
        0f);
  }
}
