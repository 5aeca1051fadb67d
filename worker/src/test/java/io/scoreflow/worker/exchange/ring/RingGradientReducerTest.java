package io.scoreflow.worker.exchange.ring;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.scoreflow.train.GradientReducer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The trainer's view: NDArrays in, the mean over replicas out, owned by the step's scope. */
class RingGradientReducerTest {

  @Test
  void averagesNdArraysOverTwoRanksIntoTheScope() throws Exception {
    int n = 1001;
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try (LoopbackRing ring =
            LoopbackRing.started(2, 256, WireEncoding.FP32, Duration.ofSeconds(20));
        NDManager base = NDManager.newBaseManager()) {
      float[][] values = RingAllReduceTest.buffers(2, n, 3);
      float[][] results = new float[2][];
      @SuppressWarnings("unchecked")
      Future<float[]>[] futures = new Future[2];
      for (int r = 0; r < 2; r++) {
        int rank = r;
        GradientReducer reducer = new RingGradientReducer(ring.rings.get(r));
        futures[r] =
            pool.submit(
                () -> {
                  try (NDManager scope = base.newSubManager()) {
                    NDArray flat = scope.create(values[rank], new Shape(n));
                    NDArray mean = reducer.allReduceMean(flat, 3, scope);
                    assertSame(scope, mean.getManager());
                    assertEquals(new Shape(n), mean.getShape());
                    return mean.toFloatArray();
                  }
                });
      }
      for (int r = 0; r < 2; r++) {
        results[r] = futures[r].get(30, TimeUnit.SECONDS);
      }
      float[] sum = RingAllReduceTest.exactSum(2, n, 3);
      float[] mean = new float[n];
      for (int i = 0; i < n; i++) {
        mean[i] = sum[i] / 2;
      }
      assertArrayEquals(mean, results[0], 0f);
      assertArrayEquals(mean, results[1], 0f);
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * Error feedback on a bf16 ring of 3: the averages of many steps of the same gradients add up to
   * the exact averages' sum (each rank's rounding losses are carried, the telescoping identity
   * {@code n·Σ out + Σ residuals = Σ gradients} holds to float32 accuracy), where without it every
   * step repeats the same rounding error; every rank gets the same values at every step; and {@code
   * checkpointed} drops the residual.
   */
  @Test
  void errorFeedbackCarriesEveryRoundingOfTheRankToItsNextStep() throws Exception {
    int world = 3;
    int n = 2003;
    int steps = 64;
    float[][] gradient = RingAllReduceTest.buffers(world, n, 11);
    double[] exactMean = new double[n];
    for (float[] g : gradient) {
      for (int i = 0; i < n; i++) {
        exactMean[i] += (double) g[i] / world;
      }
    }
    double[] withFeedback = cumulativeError(world, n, steps, gradient, exactMean, true);
    double[] without = cumulativeError(world, n, steps, gradient, exactMean, false);
    double rmsWith = rms(withFeedback);
    double rmsWithout = rms(without);
    // Without feedback the error of one step (about 2^-9 relative) repeats 64 times; with it the
    // sum is off by at most about one residual (a few roundings of one step).
    assertTrue(rmsWithout > 0.05, "without feedback " + rmsWithout);
    assertTrue(rmsWith * 16 < rmsWithout, "with " + rmsWith + ", without " + rmsWithout);
  }

  /** Σ_t out_t − steps·exactMean, element by element, after checking the replicas agree. */
  private static double[] cumulativeError(
      int world, int n, int steps, float[][] gradient, double[] exactMean, boolean feedback)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(world);
    try (LoopbackRing ring =
            LoopbackRing.started(world, 512, WireEncoding.BF16, Duration.ofSeconds(20));
        NDManager base = NDManager.newBaseManager()) {
      List<RingGradientReducer> reducers = new ArrayList<>();
      for (int r = 0; r < world; r++) {
        reducers.add(new RingGradientReducer(ring.rings.get(r), feedback));
      }
      double[] sum = new double[n];
      for (int t = 0; t < steps; t++) {
        long step = t;
        List<Future<float[]>> futures = new ArrayList<>();
        for (int r = 0; r < world; r++) {
          int rank = r;
          futures.add(
              pool.submit(
                  () -> {
                    try (NDManager scope = base.newSubManager()) {
                      NDArray flat = scope.create(gradient[rank], new Shape(n));
                      return reducers.get(rank).allReduceMean(flat, step, scope).toFloatArray();
                    }
                  }));
        }
        float[] first = futures.get(0).get(30, TimeUnit.SECONDS);
        for (int r = 1; r < world; r++) {
          assertArrayEquals(first, futures.get(r).get(30, TimeUnit.SECONDS), 0f, "rank " + r);
        }
        for (int i = 0; i < n; i++) {
          sum[i] += first[i];
        }
      }
      double[] error = new double[n];
      double[] residuals = new double[n];
      for (RingGradientReducer reducer : reducers) {
        float[] e = reducer.residual();
        for (int i = 0; i < e.length; i++) {
          residuals[i] += e[i];
        }
      }
      for (int i = 0; i < n; i++) {
        error[i] = sum[i] - steps * exactMean[i];
        if (feedback) {
          // n·Σ out + Σ residuals = Σ gradients: every rounding was kept by some rank.
          assertEquals(
              steps * exactMean[i] * world,
              world * sum[i] + residuals[i],
              2e-4,
              "element " + i + ": the roundings are accounted for");
        }
      }
      if (feedback) {
        reducers.get(0).checkpointed();
        for (float e : reducers.get(0).residual()) {
          assertEquals(0f, e, 0f, "checkpointed() drops the residual");
        }
      }
      return error;
    } finally {
      pool.shutdownNow();
    }
  }

  private static double rms(double[] x) {
    double s = 0;
    for (double v : x) {
      s += v * v;
    }
    return Math.sqrt(s / x.length);
  }

  @Test
  void errorFeedbackNeedsABf16Ring() throws Exception {
    try (LoopbackRing ring =
        LoopbackRing.started(2, 256, WireEncoding.FP32, Duration.ofSeconds(5))) {
      assertThrows(
          IllegalArgumentException.class, () -> new RingGradientReducer(ring.rings.get(0), true));
    }
  }

  @Test
  void refusesNonFloat32Gradients() throws Exception {
    try (LoopbackRing ring =
            LoopbackRing.started(2, 256, WireEncoding.FP32, Duration.ofSeconds(5));
        NDManager m = NDManager.newBaseManager()) {
      NDArray doubles = m.zeros(new Shape(4), DataType.FLOAT64);
      RingGradientReducer reducer = new RingGradientReducer(ring.rings.get(0));
      assertThrows(IllegalArgumentException.class, () -> reducer.allReduceMean(doubles, 0, m));
    }
  }
}
