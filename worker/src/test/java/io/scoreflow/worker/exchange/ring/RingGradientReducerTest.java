package io.scoreflow.worker.exchange.ring;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.scoreflow.train.GradientReducer;
import java.time.Duration;
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
