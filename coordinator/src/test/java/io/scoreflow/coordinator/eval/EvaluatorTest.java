package io.scoreflow.coordinator.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.scoreflow.ckpt.CheckpointSnapshot;
import io.scoreflow.ckpt.CheckpointStore;
import io.scoreflow.ckpt.HostTensor;
import io.scoreflow.ckpt.RngState;
import io.scoreflow.data.DataCursor;
import io.scoreflow.data.Npz;
import io.scoreflow.eval.SampleQuality;
import io.scoreflow.metrics.EvaluationMetrics;
import io.scoreflow.proto.cluster.EvaluatorProtocol;
import io.scoreflow.proto.cluster.SamplerProtocol;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The evaluator with a probe as its sampler and real checkpoints on disk: it asks for the newest
 * checkpoint once it is due, exports what {@link SampleQuality} measures of the samples it is told
 * of, skips checkpoints closer than {@code every}, and gives up a sampler that never answers.
 */
class EvaluatorTest {

  private static final ActorTestKit KIT = ActorTestKit.create("EvaluatorTest");
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final String JOB = "eval-test";

  @TempDir Path dir;

  @AfterAll
  static void shutdown() {
    KIT.shutdownTestKit();
  }

  private static final Config CONFIG =
      ConfigFactory.parseString(
              "scoreflow { job.name = eval-test, data { source = gaussian, gaussian { dim = 4,"
                  + " mean = 1.0, std = 0.5 } } }")
          .withFallback(ConfigFactory.defaultReference())
          .resolve();

  private void checkpoint(CheckpointStore store, long step) {
    store.write(
        CheckpointSnapshot.builder()
            .jobId(JOB)
            .step(step)
            .generation(1)
            .config("scoreflow { job.name = eval-test }")
            .dataCursor(new DataCursor(0, 0))
            .rng(new RngState(1, Map.of()))
            .group("ema", List.of(new HostTensor("w", new long[] {1}, new float[] {step})))
            .build());
  }

  @Test
  void evaluatesNewCheckpointsThroughASampler() throws Exception {
    PrometheusRegistry registry = new PrometheusRegistry();
    SampleQuality quality = SampleQuality.of(CONFIG, () -> null, dir.resolve("eval"));
    TestProbe<SamplerProtocol.Command> sampler = KIT.createTestProbe();
    KIT.system()
        .receptionist()
        .tell(Receptionist.register(SamplerProtocol.SERVICE_KEY, sampler.ref()));
    try (CheckpointStore store = CheckpointStore.open(dir.resolve("checkpoints"))) {
      checkpoint(store, 100);
      ActorRef<EvaluatorProtocol.Command> evaluator =
          KIT.spawn(
              Evaluator.create(
                  new Evaluator.Settings(
                      JOB,
                      dir.resolve("checkpoints"),
                      dir.resolve("samples"),
                      "127.0.0.1",
                      9999,
                      100,
                      Duration.ofMillis(100),
                      Duration.ofSeconds(3)),
                  quality,
                  new EvaluationMetrics(registry, JOB)));

      SamplerProtocol.SampleCheckpoint asked =
          sampler.expectMessageClass(SamplerProtocol.SampleCheckpoint.class, WAIT);
      assertEquals(100, asked.step());
      assertEquals(9999, asked.checkpointPort());
      Random random = new Random(7);
      float[] samples = new float[500 * 4];
      for (int i = 0; i < samples.length; i++) {
        samples[i] = (float) (1.0 + 0.5 * random.nextGaussian());
      }
      // A node names the file it wrote: one outside the sample store is not read.
      Path outside = dir.resolve("samples-100.npz");
      Npz.write(outside, Map.of("samples", Npz.FloatArray.of(new float[500 * 4], 500, 4)));
      asked
          .replyTo()
          .tell(
              new EvaluatorProtocol.SamplesWritten(
                  JOB, 100, "probe", outside.toString(), 500, 2.0));
      asked
          .replyTo()
          .tell(
              new EvaluatorProtocol.SamplesWritten(
                  JOB, 100, "probe", "../samples-100.npz", 500, 2.0));
      Path npz = dir.resolve("samples").resolve("samples-100.npz");
      java.nio.file.Files.createDirectories(npz.getParent());
      Npz.write(npz, Map.of("samples", Npz.FloatArray.of(samples, 500, 4)));
      asked
          .replyTo()
          .tell(new EvaluatorProtocol.SamplesWritten(JOB, 100, "probe", npz.toString(), 500, 2.0));

      double expected = quality.measure(samples, 500).value();
      assertTrue(expected > 0 && expected < 0.1, "W2 of 500 samples of the data law: " + expected);
      long until = System.nanoTime() + WAIT.toNanos();
      while (gauge(registry, "scoreflow_eval_w2") == null && System.nanoTime() < until) {
        Thread.sleep(50);
      }
      assertEquals(expected, gauge(registry, "scoreflow_eval_w2"), 0.0);
      assertEquals(100.0, gauge(registry, "scoreflow_eval_step"), 0.0);
      assertEquals(500.0, counter(registry, "scoreflow_sampler_images"), 0.0);

      // 150 is closer than `every` to 100: skipped. 200 is due; its sampler never answers.
      checkpoint(store, 150);
      sampler.expectNoMessage(Duration.ofMillis(500));
      checkpoint(store, 200);
      assertEquals(
          200, sampler.expectMessageClass(SamplerProtocol.SampleCheckpoint.class, WAIT).step());
      // After the sample deadline the step is given up; a newer checkpoint is asked for again.
      sampler.expectNoMessage(Duration.ofSeconds(4));
      checkpoint(store, 300);
      assertEquals(
          300, sampler.expectMessageClass(SamplerProtocol.SampleCheckpoint.class, WAIT).step());
      KIT.stop(evaluator);
    }
  }

  private static Double gauge(PrometheusRegistry registry, String name) {
    for (MetricSnapshot s : registry.scrape()) {
      if (s.getMetadata().getPrometheusName().equals(name) && s instanceof GaugeSnapshot g) {
        return g.getDataPoints().isEmpty() ? null : g.getDataPoints().get(0).getValue();
      }
    }
    return null;
  }

  private static Double counter(PrometheusRegistry registry, String name) {
    for (MetricSnapshot s : registry.scrape()) {
      if (s.getMetadata().getPrometheusName().equals(name) && s instanceof CounterSnapshot c) {
        return c.getDataPoints().isEmpty() ? null : c.getDataPoints().get(0).getValue();
      }
    }
    return null;
  }
}
