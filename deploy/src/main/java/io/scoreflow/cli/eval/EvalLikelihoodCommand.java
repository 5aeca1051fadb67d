package io.scoreflow.cli.eval;

import io.scoreflow.cli.output.Json;
import io.scoreflow.cli.output.Progress;
import io.scoreflow.config.Devices;
import io.scoreflow.eval.LikelihoodJob;
import io.scoreflow.sample.FlowLikelihood;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code scoreflow eval likelihood RUN}: bits/dim of a dataset split under a checkpoint. */
@Command(
    name = "likelihood",
    mixinStandardHelpOptions = true,
    description = {
      "Bits per dimension of a dataset split under a run's checkpoint, by the probability-flow"
          + " ODE (score_sde's likelihood: uniform dequantisation of the 8-bit images, the data"
          + " scaling's Jacobian, Hutchinson divergence, RK45 from 1e-5 to T): bpd = -log p(u) /"
          + " (D ln 2) + 8. Reports the mean and its standard error over the images."
    })
public final class EvalLikelihoodCommand implements Callable<Integer> {

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "RUN", description = "The run directory of `train`.")
  Path run;

  @Option(
      names = "--step",
      paramLabel = "N",
      description = "Checkpoint step, which must verify (default: the newest that verifies).")
  Long step;

  @Option(names = "--weights", paramLabel = "W", description = "ema (default) or model.")
  String weights = "ema";

  @Option(names = "--split", paramLabel = "S", description = "test (default) or train.")
  String split = "test";

  @Option(
      names = "--count",
      paramLabel = "N",
      description = "The first N images of the split (default: all of it).")
  Integer count;

  @Option(
      names = "--batch",
      paramLabel = "B",
      description = "Images per ODE solve (default 64); the batch shares one step size.")
  int batch = 64;

  @Option(
      names = "--hutchinson",
      paramLabel = "PROBE",
      description = "rademacher (default, score_sde's) or gaussian probes of the divergence.")
  String hutchinson = "rademacher";

  @Option(names = "--rtol", paramLabel = "R", description = "RK45 relative tolerance (1e-5).")
  double rtol = 1e-5;

  @Option(names = "--atol", paramLabel = "A", description = "RK45 absolute tolerance (1e-5).")
  double atol = 1e-5;

  @Option(
      names = "--seed",
      paramLabel = "S",
      description = "Seed of the dequantisation noise and the probes (default 0).")
  long seed;

  @Option(
      names = "--data",
      paramLabel = "DIR",
      description = "Where the dataset is (default: the run's scoreflow.data.path).")
  Path data;

  @Option(names = "--device", paramLabel = "DEV", description = "cpu, gpu or auto (default).")
  String device = "auto";

  @Option(names = "--json", description = "Print JSON.")
  boolean json;

  @Override
  public Integer call() {
    LikelihoodJob.Request request =
        new LikelihoodJob.Request(
            run,
            step,
            weights,
            split,
            count,
            batch,
            FlowLikelihood.Trace.hutchinson(hutchinson),
            rtol,
            atol,
            seed,
            data,
            Devices.parse(device));
    Progress[] progress = {null};
    LikelihoodJob.Result r =
        LikelihoodJob.run(
            request,
            (done, total) -> {
              if (progress[0] == null) {
                progress[0] = new Progress(spec.commandLine().getErr(), "likelihood", total);
              }
              progress[0].update(done, "");
            });
    r.warning().ifPresent(w -> spec.commandLine().getErr().println("scoreflow: warning: " + w));
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("bpd", r.bpd());
      m.put("bpd_stderr", Double.isFinite(r.bpdStderr()) ? r.bpdStderr() : null);
      m.put("count", r.count());
      m.put("nfe_mean", r.nfeMean());
      m.put("checkpoint_step", r.checkpointStep());
      m.put("dataset", r.dataset());
      m.put("split", split);
      m.put("weights", weights);
      m.put("hutchinson", hutchinson);
      m.put("rtol", rtol);
      m.put("atol", atol);
      m.put("seconds", r.millis() / 1000.0);
      Json.print(out, m);
    } else {
      out.printf(
          Locale.ROOT,
          "%.4f ± %.4f bits/dim over %d images of %s, checkpoint step %d (%s weights), %.0f"
              + " evaluations per batch%n",
          r.bpd(),
          r.bpdStderr(),
          r.count(),
          r.dataset(),
          r.checkpointStep(),
          weights,
          r.nfeMean());
    }
    return 0;
  }
}
