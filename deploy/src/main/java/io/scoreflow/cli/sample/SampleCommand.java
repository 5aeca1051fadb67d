package io.scoreflow.cli.sample;

import com.typesafe.config.Config;
import io.scoreflow.InvalidInputException;
import io.scoreflow.cli.output.Json;
import io.scoreflow.cli.output.Progress;
import io.scoreflow.config.ConfigValues;
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

  private static final String SAMPLE = "scoreflow.sample.";

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "RUN", description = "The run directory of `train`.")
  Path run;

  @Option(
      names = "--step",
      paramLabel = "N",
      description =
          "Checkpoint step, which must verify (default: the newest checkpoint that verifies"
              + " completely; older ones are used, with a warning, when newer ones are damaged).")
  Long step;

  @Option(names = "--weights", paramLabel = "W", description = "ema (default) or model.")
  String weights = "ema";

  @Option(
      names = "--sampler",
      paramLabel = "S",
      description =
          "euler-maruyama (the paper's), pc (predictor-corrector: --predictor, --corrector), ode"
              + " (probability flow, adaptive RK45: --rtol, --atol) or ode-euler (probability flow,"
              + " K Euler steps) (default: the run's scoreflow.sample.sampler,"
              + " euler-maruyama unless its config set another).")
  String sampler;

  @Option(
      names = "--predictor",
      paramLabel = "P",
      description =
          "pc's predictor: euler-maruyama, reverse-diffusion or ancestral (VP and VE schedules"
              + " only) (default: the run's scoreflow.sample.predictor, euler-maruyama).")
  String predictor;

  @Option(
      names = "--corrector",
      paramLabel = "C",
      description =
          "pc's corrector: none, langevin or ald (annealed Langevin dynamics) (default: the run's"
              + " scoreflow.sample.corrector, langevin).")
  String corrector;

  @Option(
      names = "--snr",
      paramLabel = "X",
      description = "pc's corrector signal-to-noise ratio (default: scoreflow.sample.snr, 0.16).")
  Double snr;

  @Option(
      names = "--corrector-steps",
      paramLabel = "N",
      description =
          "pc's corrector steps per predictor step (default: scoreflow.sample.corrector-steps, 1).")
  Integer correctorSteps;

  @Option(
      names = "--inpaint",
      paramLabel = "IMAGE",
      description =
          "Inpaint this PNG (the model's size): every sample keeps the pixels that are white in"
              + " --mask and fills the black ones (score_sde's PC inpainting); the grid shows rows"
              + " of (image, mask, result).")
  Path inpaint;

  @Option(
      names = "--mask",
      paramLabel = "MASK",
      description =
          "With --inpaint: a grayscale PNG of the image's size, white = keep, black = fill.")
  Path mask;

  @Option(
      names = "--colorize",
      paramLabel = "IMAGE",
      description =
          "Colourise this PNG's gray scale (the channel mean; the model's size, RGB models): every"
              + " sample keeps it and fills the colours; the grid shows rows of (image, gray, result).")
  Path colorize;

  @Option(
      names = "--steps",
      paramLabel = "K",
      description =
          "Sampler steps (default: the run's scoreflow.sample.steps, 1000 unless set); ode is"
              + " adaptive and uses K only as the progress bar's resolution.")
  Integer steps;

  @Option(
      names = "--rtol",
      paramLabel = "R",
      description = "Relative tolerance of the ode sampler's RK45 (default: the run's, 1e-5).")
  Double rtol;

  @Option(
      names = "--atol",
      paramLabel = "A",
      description = "Absolute tolerance of the ode sampler's RK45 (default: the run's, 1e-5).")
  Double atol;

  @Option(
      names = "--count",
      paramLabel = "N",
      description = "Samples (default: the run's scoreflow.sample.count, 64 unless set).")
  Integer count;

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
    // The flags win; else the run's scoreflow.sample, as its config (a preset, say) set it.
    Config config = SampleJob.runConfig(run);
    String sampler =
        this.sampler != null ? this.sampler : ConfigValues.string(config, SAMPLE + "sampler");
    int steps = this.steps != null ? this.steps : atLeastOne(config, SAMPLE + "steps");
    int count = this.count != null ? this.count : atLeastOne(config, SAMPLE + "count");
    Map<String, Object> options = samplerOptions(sampler);
    SampleJob.Guide guide = guide();
    Progress progress = new Progress(spec.commandLine().getErr(), "sample", (long) count * steps);
    SampleJob.Result r =
        SampleJob.run(
            new SampleJob.Request(
                run,
                step,
                weights,
                sampler,
                steps,
                count,
                batch,
                seed,
                out,
                Devices.parse(device),
                options,
                guide),
            done -> progress.update(done, ""));
    r.warning().ifPresent(w -> spec.commandLine().getErr().println("scoreflow: warning: " + w));
    PrintWriter outWriter = spec.commandLine().getOut();
    if (json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("checkpoint_step", r.checkpointStep());
      m.put("count", r.count());
      m.put("npz", r.npz().toString());
      m.put("png", r.png() == null ? null : r.png().toString());
      m.put("nfe", r.nfe());
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

  /** --inpaint with --mask, or --colorize, or neither. */
  private SampleJob.Guide guide() {
    if (inpaint != null && colorize != null) {
      throw new InvalidInputException("--inpaint and --colorize cannot be used together");
    }
    if (inpaint != null) {
      if (mask == null) {
        throw new InvalidInputException("--inpaint needs --mask MASK (white = keep, black = fill)");
      }
      return new SampleJob.Guide(SampleJob.Guide.Kind.INPAINT, inpaint, mask);
    }
    if (mask != null) {
      throw new InvalidInputException("--mask applies to --inpaint only");
    }
    return colorize == null
        ? null
        : new SampleJob.Guide(SampleJob.Guide.Kind.COLORIZE, colorize, null);
  }

  /**
   * The sampler flags given (pc's, ode's tolerances), as scoreflow.sample keys; each refused for a
   * sampler it does not apply to (never ignored).
   */
  private Map<String, Object> samplerOptions(String sampler) {
    Map<String, Object> pc = new LinkedHashMap<>();
    if (predictor != null) {
      pc.put("predictor", predictor);
    }
    if (corrector != null) {
      pc.put("corrector", corrector);
    }
    if (snr != null) {
      pc.put("snr", snr);
    }
    if (correctorSteps != null) {
      pc.put("corrector-steps", correctorSteps);
    }
    if (!pc.isEmpty() && !sampler.equals("pc")) {
      throw new InvalidInputException(
          "--" + pc.keySet().iterator().next() + " applies to --sampler pc only, not " + sampler);
    }
    Map<String, Object> ode = new LinkedHashMap<>();
    if (rtol != null) {
      ode.put("rtol", rtol);
    }
    if (atol != null) {
      ode.put("atol", atol);
    }
    if (!ode.isEmpty() && !sampler.equals("ode")) {
      throw new InvalidInputException(
          "--" + ode.keySet().iterator().next() + " applies to --sampler ode only, not " + sampler);
    }
    pc.putAll(ode);
    return pc;
  }

  private static int atLeastOne(Config config, String path) {
    return (int)
        ConfigValues.whole(
            config, path, 1, Integer.MAX_VALUE, "a whole number from 1 to 2147483647");
  }
}
