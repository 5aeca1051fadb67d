package io.scoreflow.cli.sample;

import io.scoreflow.cli.output.Json;
import io.scoreflow.cli.output.Progress;
import io.scoreflow.config.Devices;
import io.scoreflow.sample.SampleJob;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code scoreflow sample RUN}: samples from a run's checkpoint. */
@Command(
    name = "sample",
    mixinStandardHelpOptions = true,
    description = {
      "Samples from a run's checkpoint (EMA weights by default) and writes PREFIX.png (a grid, for"
          + " images) and PREFIX.npz (array 'samples', in the data's range)."
    })
public final class SampleCommand implements Callable<Integer> {

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "RUN", description = "The run directory of `train`.")
  Path run;

  @Option(names = "--step", paramLabel = "N", description = "Checkpoint step (default: newest).")
  Long step;

  @Option(names = "--weights", paramLabel = "W", description = "ema (default) or model.")
  String weights = "ema";

  @Option(
      names = "--sampler",
      paramLabel = "S",
      description = "euler-maruyama (default, the paper's), pc or ode.")
  String sampler = "euler-maruyama";

  @Option(names = "--steps", paramLabel = "K", description = "Sampler steps (default 1000).")
  int steps = 1000;

  @Option(names = "--count", paramLabel = "N", description = "Samples (default 64).")
  int count = 64;

  @Option(names = "--batch", paramLabel = "B", description = "Samples per batch (default 64).")
  int batch = 64;

  @Option(names = "--seed", paramLabel = "S", description = "Seed (default 0).")
  long seed;

  @Option(
      names = "--out",
      paramLabel = "PREFIX",
      description = "Output prefix (default RUN/samples/step-N-SAMPLER-K).")
  Path out;

  @Option(names = "--device", paramLabel = "DEV", description = "cpu, gpu or auto (default).")
  String device = "auto";

  @Option(names = "--json", description = "Print JSON.")
  boolean json;

  @Override
  public Integer call() {
    Progress progress = new Progress(spec.commandLine().getErr(), "sample", (long) count * steps);
    SampleJob.Result r =
        SampleJob.run(
            new SampleJob.Request(
                run, step, weights, sampler, steps, count, batch, seed, out, Devices.parse(device)),
            done -> progress.update(done, ""));
    PrintWriter outWriter = spec.commandLine().getOut();
    if (json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("checkpoint_step", r.checkpointStep());
      m.put("count", r.count());
      m.put("npz", r.npz().toString());
      m.put("png", r.png() == null ? null : r.png().toString());
      m.put("seconds", r.millis() / 1000.0);
      Json.print(outWriter, m);
    } else {
      outWriter.println(
          r.count()
              + " samples from checkpoint step "
              + r.checkpointStep()
              + ": "
              + r.npz()
              + (r.png() == null ? "" : ", " + r.png()));
    }
    return 0;
  }
}
