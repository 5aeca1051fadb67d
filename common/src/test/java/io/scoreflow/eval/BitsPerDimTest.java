package io.scoreflow.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDManager;
import com.typesafe.config.ConfigFactory;
import io.scoreflow.data.Dataset;
import io.scoreflow.data.SampleShape;
import io.scoreflow.math.DormandPrince;
import io.scoreflow.math.KeyedRandom;
import io.scoreflow.run.DataScaler;
import io.scoreflow.sample.FlowLikelihood;
import io.scoreflow.sample.GaussianScore;
import io.scoreflow.sde.ForwardSde;
import io.scoreflow.sde.SdeSpec;
import io.scoreflow.sde.Sdes;
import io.scoreflow.theory.GaussianLaw;
import io.scoreflow.theory.GaussianLikelihood;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The bits/dim pipeline (dequantisation, scaling Jacobian, offset) on 8-bit "images" with the exact
 * score of an isotropic Gaussian, where both the flow's density and the Hutchinson estimate are
 * exact: with Rademacher probes {@code uᵀ (c I) u = c D}, and {@code q_ε} is the Gaussian of {@link
 * GaussianLikelihood#model}. Each image's bpd is recomputed here from its own dequantisation noise,
 * in both forms: {@code (−log q(y) − D log scale)/(D ln 2) + 8} and score_sde's {@code −log q(y)/(D
 * ln 2) + 7 − inverse_scaler(−1)}.
 */
class BitsPerDimTest {

  private static final SampleShape.Image SHAPE = SampleShape.image(1, 2, 3);

  /** Image i has pixel j = (37 i + 91 j) mod 256. */
  private static int pixel(int i, int j) {
    return (37 * i + 91 * j) % 256;
  }

  private static final Dataset DATA =
      new Dataset() {
        @Override
        public String description() {
          return "test pixels";
        }

        @Override
        public SampleShape shape() {
          return SHAPE;
        }

        @Override
        public int size() {
          return 7;
        }

        @Override
        public void read(int index, float[] dest, int offset) {
          for (int j = 0; j < SHAPE.size(); j++) {
            dest[offset + j] = pixel(index, j) / 255f;
          }
        }
      };

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({"vp-linear, CENTERED, 0.1, 0.6", "ve-exp, IDENTITY, 0.5, 0.3"})
  void eachImagesBitsPerDimFollowsFromItsClosedFormDensity(
      String name, DataScaler scaler, double mean, double std) {
    ForwardSde sde =
        Sdes.create(
            SdeSpec.resolve(
                name,
                Map.of(),
                Map.of(),
                null,
                ConfigFactory.defaultReference().getConfig("scoreflow.sde")));
    FlowLikelihood flow =
        new FlowLikelihood(
            sde,
            FlowLikelihood.Trace.RADEMACHER,
            DormandPrince.Options.of(1e-7, 1e-7),
            FlowLikelihood.DEFAULT_EPS);
    int d = SHAPE.size();
    GaussianLaw q = GaussianLikelihood.model(sde, new GaussianLaw(mean, std, d), flow.eps());
    long seed = 5;
    int count = 7;
    LikelihoodJob.Measured m;
    try (NDManager manager = NDManager.newBaseManager()) {
      m =
          LikelihoodJob.bitsPerDim(
              new GaussianScore(sde, mean, std),
              flow,
              scaler,
              DATA,
              count,
              3,
              seed,
              manager,
              (done, total) -> {});
    }
    double sum = 0;
    double sumSq = 0;
    for (int i = 0; i < count; i++) {
      KeyedRandom noise = KeyedRandom.of(seed, LikelihoodJob.DEQUANTIZE, i);
      double[] y = new double[d];
      for (int j = 0; j < d; j++) {
        double u = (pixel(i, j) + noise.nextDouble()) / 256;
        y[j] = scaler == DataScaler.CENTERED ? 2 * u - 1 : u;
      }
      double nll = GaussianLikelihood.nllPerDim(q, y) * d;
      double scale = scaler == DataScaler.CENTERED ? 2 : 1;
      double bpd = (nll - d * Math.log(scale)) / (d * Math.log(2)) + 8;
      double inverseScalerOfMinusOne = scaler == DataScaler.CENTERED ? 0 : -1;
      assertEquals(bpd, nll / (d * Math.log(2)) + 7 - inverseScalerOfMinusOne, 1e-12);
      sum += bpd;
      sumSq += bpd * bpd;
    }
    double mean7 = sum / count;
    double stderr = Math.sqrt((sumSq - count * mean7 * mean7) / (count - 1) / count);
    // The ODE at 1e-7 tolerances on a state of size ~10: far below 1e-5 bits/dim.
    assertEquals(mean7, m.bpd(), 1e-5, "bpd");
    assertEquals(stderr, m.stderr(), 1e-5, "stderr");
  }
}
