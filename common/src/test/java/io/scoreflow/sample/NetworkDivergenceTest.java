package io.scoreflow.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import com.typesafe.config.ConfigFactory;
import io.scoreflow.math.DormandPrince;
import io.scoreflow.model.Ncsnpp;
import io.scoreflow.model.ScoreNetConfig;
import io.scoreflow.model.ScoreNetworks;
import io.scoreflow.run.Parametrisation;
import io.scoreflow.sde.ForwardSde;
import io.scoreflow.sde.SdeSpec;
import io.scoreflow.sde.Sdes;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The autograd divergence of a real network's flow drift (tiny DDPM++, float32 inside a float64
 * state, as eval likelihood runs it) against central finite differences of the drift along the
 * probe: {@code uᵀ (v(x + hu) − v(x − hu)) / 2h}.
 */
class NetworkDivergenceTest {

  @Test
  void hutchinsonProductMatchesFiniteDifferences() {
    ForwardSde sde =
        Sdes.create(
            SdeSpec.resolve(
                "vp-linear",
                Map.of(),
                Map.of(),
                null,
                ConfigFactory.defaultReference().getConfig("scoreflow.sde")));
    Engine.getInstance().setRandomSeed(1);
    try (NDManager m = NDManager.newBaseManager()) {
      Ncsnpp net =
          ScoreNetworks.build(
              ScoreNetConfig.tinyDdpmpp(16, 1).toBuilder().nf(8).seed(3).build(), m);
      // DDPM++ zero-initialises its output layer, so a fresh network hardly depends on x: perturb
      // every parameter to make the network's part of the divergence large.
      for (var p : net.stateDict().values()) {
        NDArray a = p.getArray();
        io.scoreflow.math.InPlace.assign(
            a, a.add(m.randomNormal(0f, 0.05f, a.getShape(), a.getDataType())));
      }
      NetworkScore network =
          new NetworkScore(
              net, new Parametrisation.NoisePrediction(), sde, new ParameterStore(m, false));
      FlowLikelihood flow =
          new FlowLikelihood(
              sde,
              FlowLikelihood.Trace.GAUSSIAN,
              DormandPrince.Options.of(1e-5, 1e-5),
              1e-5,
              DataType.FLOAT32);
      Shape shape = new Shape(2, 1, 16, 16);
      NDArray x = m.randomUniform(-1f, 1f, shape, DataType.FLOAT64);
      NDArray u = m.randomNormal(0f, 1f, shape, DataType.FLOAT64);
      for (double t : new double[] {0.01, 0.5}) {
        double[] div =
            flow.driftAndDivergence(network, x, t, u)[1]
                .toType(DataType.FLOAT64, false)
                .toDoubleArray();
        // Central differences of the score part −½ g² s along u, in float64 around float32 inputs;
        // the −f x part contributes −f |u|² exactly to both sides.
        double h = 1e-2;
        NDArray plus = network.score(x.add(u.mul(h)).toType(DataType.FLOAT32, false), t);
        NDArray minus = network.score(x.sub(u.mul(h)).toType(DataType.FLOAT32, false), t);
        double g2 = sde.g(t) * sde.g(t);
        double[] fd =
            plus.sub(minus)
                .toType(DataType.FLOAT64, false)
                .mul(u)
                .reshape(2, -1)
                .sum(new int[] {1})
                .mul(-0.5 * g2 / (2 * h))
                .toDoubleArray();
        double[] uu = u.square().reshape(2, -1).sum(new int[] {1}).toDoubleArray();
        for (int i = 0; i < 2; i++) {
          double netPart = div[i] + sde.f(t) * uu[i];
          assertEquals(fd[i], netPart, 2e-2 * Math.abs(fd[i]), "t=" + t + " sample " + i);
        }
      }
    }
  }
}
