package io.scoreflow.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.ndarray.NDManager;
import io.scoreflow.data.BatchStream;
import io.scoreflow.data.GaussianData;
import io.scoreflow.data.SampleShape;
import io.scoreflow.model.ScoreNetConfig;
import io.scoreflow.model.ScoreNetwork;
import io.scoreflow.model.ScoreNetworks;
import io.scoreflow.run.DataScaler;
import io.scoreflow.run.Parametrisation;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Training must not depend on when the garbage collector runs. DJL's PyTorch engine keeps some
 * native tensors alive only through Java objects (arrays made from Java buffers, the scalars of
 * {@code mul(Number)}); when autograd still needs such a tensor, a collection between forward and
 * backward turned every gradient into NaN, and whether it happened depended on what else the JVM
 * had allocated. Here a thread collects every few milliseconds while the networks train, and the
 * result must equal a quiet run bit for bit.
 */
class GarbageCollectionTest {

  @ParameterizedTest
  @ValueSource(strings = {"tiny-ddpmpp", "tiny-ncsnpp"})
  void trainingIsTheSameUnderConstantCollection(String preset) {
    float[] quiet = train(preset);
    AtomicBoolean stop = new AtomicBoolean();
    Thread collector =
        new Thread(
            () -> {
              while (!stop.get()) {
                System.gc();
                try {
                  Thread.sleep(2);
                } catch (InterruptedException e) {
                  return;
                }
              }
            });
    collector.setDaemon(true);
    collector.start();
    float[] hammered;
    try {
      hammered = train(preset);
    } finally {
      stop.set(true);
    }
    assertArrayEquals(quiet, hammered);
  }

  private static float[] train(String preset) {
    ScoreNetConfig config = ScoreNetConfig.preset(preset).withNf(8);
    SampleShape shape =
        SampleShape.image(config.channels(), config.imageSize(), config.imageSize());
    GaussianData data =
        GaussianData.builder().shape(shape).mean(0.5).std(0.25).seed(3).size(8).build();
    boolean positional = config.embeddingType() == ScoreNetConfig.EmbeddingType.POSITIONAL;
    Parametrisation p =
        positional ? new Parametrisation.NoisePrediction() : new Parametrisation.SigmaScaled();
    try (NDManager manager = NDManager.newBaseManager()) {
      ScoreNetwork net = ScoreNetworks.build(config, manager);
      try (Trainer trainer =
          Trainer.builder()
              .network(net)
              .objective(new DsmObjective(TrainerTest.vpLinear(), p, 1e-5, 3))
              .stream(BatchStream.builder().dataset(data).globalBatchSize(2).seed(3).build())
              .scaler(DataScaler.CENTERED)
              .adam(new AdamOptions(1e-3, 0.9, 0.999, 1e-8, 0, 1.0))
              .seed(3)
              .manager(manager)
              .build()) {
        for (int i = 0; i < 3; i++) {
          trainer.runStep();
        }
        return TrainerTest.concat(TrainState.capture(trainer).model());
      }
    }
  }
}
