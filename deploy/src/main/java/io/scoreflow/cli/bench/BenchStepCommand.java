package io.scoreflow.cli.bench;

import com.typesafe.config.ConfigFactory;
import io.scoreflow.bench.StepBenchmark;
import io.scoreflow.cli.output.Json;
import io.scoreflow.cli.output.Progress;
import io.scoreflow.config.Devices;
import io.scoreflow.model.ScoreNetConfig;
import io.scoreflow.sde.ForwardSde;
import io.scoreflow.sde.SdeSpec;
import io.scoreflow.sde.Sdes;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code scoreflow bench step}: ms per training step and images/s of a score network. */
@Command(
    name = "step",
    mixinStandardHelpOptions = true,
    description = {
      "Times the full training step (DSM, forward, backward, clip, Adam, EMA) of a network on"
          + " synthetic data after warm-up (medians), next to the bare forward+backward of the same"
          + " network measured in the same run (step_over_baseline = trainer overhead)."
    })
public final class BenchStepCommand implements Callable<Integer> {

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--arch",
      required = true,
      paramLabel = "A",
      description = "ddpmpp, ncsnpp, tiny-ddpmpp or tiny-ncsnpp.")
  String arch;

  @Option(names = "--nf", paramLabel = "N", description = "Width (default: the preset's).")
  int nf;

  @Option(names = "--deep", description = "The deep variant (8 res blocks per level).")
  boolean deep;

  @Option(names = "--batch", required = true, paramLabel = "B", description = "Batch size.")
  int batch;

  @Option(names = "--device", paramLabel = "DEV", description = "cpu, gpu or auto (default).")
  String device = "auto";

  @Option(names = "--warmup", paramLabel = "N", description = "Untimed steps (default 5).")
  int warmup = 5;

  @Option(names = "--repeats", paramLabel = "N", description = "Timed steps (default 10).")
  int repeats = 10;

  @Option(names = "--json", description = "Print JSON.")
  boolean json;

  @Override
  public Integer call() {
    ScoreNetConfig config =
        arch.startsWith("tiny-")
            ? ScoreNetConfig.preset(arch)
            : ScoreNetConfig.forArch(arch, deep, 0);
    if (nf > 0) {
      config = config.withNf(nf);
    }
    boolean ve = config.embeddingType() == ScoreNetConfig.EmbeddingType.FOURIER;
    ForwardSde sde =
        Sdes.create(
            SdeSpec.resolve(
                ve ? "ve-exp" : "vp-linear",
                Map.of(),
                Map.of(),
                null,
                ConfigFactory.defaultReference().getConfig("scoreflow.sde")));
    Progress progress = new Progress(spec.commandLine().getErr(), "bench", warmup + repeats);
    StepBenchmark.Result r =
        StepBenchmark.run(
            config,
            sde,
            batch,
            warmup,
            repeats,
            Devices.parse(device),
            done -> progress.update(done, ""));
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      Map<String, Object> m = new java.util.LinkedHashMap<>();
      m.put("arch", r.arch());
      m.put("nf", r.nf());
      m.put("deep", deep);
      m.put("batch", r.batch());
      m.put("device", r.device());
      m.put("params", r.params());
      m.put("warmup", r.warmup());
      m.put("repeats", r.repeats());
      m.put("step_ms", r.stepMs());
      m.put("compute_ms", r.computeMs());
      m.put("optimizer_ms", r.optimizerMs());
      m.put("images_per_second", r.imagesPerSecond());
      m.put("baseline_forward_backward_ms", r.baselineForwardBackwardMs());
      m.put("step_over_baseline", r.stepOverBaseline());
      Json.print(out, m);
      return 0;
    }
    out.printf(
        Locale.ROOT,
        "%s nf=%d batch=%d on %s: step %.1f ms (compute %.1f, optimizer %.1f), %.1f images/s;"
            + " bare forward+backward %.1f ms, step/baseline %.2f%n",
        r.arch(),
        r.nf(),
        r.batch(),
        r.device(),
        r.stepMs(),
        r.computeMs(),
        r.optimizerMs(),
        r.imagesPerSecond(),
        r.baselineForwardBackwardMs(),
        r.stepOverBaseline());
    return 0;
  }
}
