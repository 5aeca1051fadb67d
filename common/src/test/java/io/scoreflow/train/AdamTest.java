package io.scoreflow.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import org.junit.jupiter.api.Test;

/** Adam, clipping and the EMA against scalar double-precision transcriptions of torch/score_sde. */
class AdamTest {

  @Test
  void adamMatchesTorchsFormulaStepByStep() {
    AdamOptions options = new AdamOptions(1e-2, 0.9, 0.999, 1e-8, 3, 0);
    double[] p = {0.5, -1.0, 2.0};
    double[] m = new double[3];
    double[] v = new double[3];
    try (NDManager manager = NDManager.newBaseManager();
        Adam adam = new Adam(options, 3, DataType.FLOAT64, manager)) {
      NDArray params = manager.create(p.clone());
      for (int step = 0; step < 6; step++) {
        double[] g = {Math.sin(step + 1.0), 0.1 * step - 0.2, Math.cos(3.0 * step)};
        try (NDManager scope = manager.newSubManager()) {
          params.subi(adam.update(scope.create(g), step, scope));
        }
        // torch.optim.Adam with score_sde's warm-up lr·min(step/warmup, 1):
        double lr = 1e-2 * Math.min((double) step / 3, 1);
        int k = step + 1;
        for (int i = 0; i < 3; i++) {
          m[i] = 0.9 * m[i] + 0.1 * g[i];
          v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
          double denom = Math.sqrt(v[i]) / Math.sqrt(1 - Math.pow(0.999, k)) + 1e-8;
          p[i] -= lr / (1 - Math.pow(0.9, k)) * m[i] / denom;
        }
        double[] actual = params.toDoubleArray();
        for (int i = 0; i < 3; i++) {
          assertEquals(p[i], actual[i], 1e-15, "step " + step + " p" + i);
        }
      }
      assertEquals(6, adam.updates());
    }
  }

  @Test
  void clippingScalesToTheMaximumNormAndReportsTheNormBefore() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray g = manager.create(new double[] {3, 4});
      NDArray norm = GradientClipping.clipGlobalNorm(g, 1.0, manager);
      assertEquals(5.0, norm.getDouble(), 1e-12);
      double coef = 1.0 / (5 + 1e-6);
      assertEquals(3 * coef, g.getDouble(0), 1e-12);
      assertEquals(4 * coef, g.getDouble(1), 1e-12);
      NDArray small = manager.create(new double[] {0.3, 0.4});
      GradientClipping.clipGlobalNorm(small, 1.0, manager);
      assertEquals(0.3, small.getDouble(0), 0); // under the limit: untouched
    }
  }

  @Test
  void emaUsesScoreSdesWarmupOfTheDecay() {
    try (NDManager manager = NDManager.newBaseManager()) {
      Ema ema = new Ema(0.999, manager.create(new double[] {0.0}), manager);
      double shadow = 0;
      for (int n = 1; n <= 50; n++) {
        double param = n;
        ema.update(manager.create(new double[] {param}), manager);
        double decay = Math.min(0.999, (1.0 + n) / (10.0 + n));
        shadow -= (1 - decay) * (shadow - param);
        assertEquals(shadow, ema.shadow().getDouble(0), 1e-12, "update " + n);
      }
    }
  }
}
