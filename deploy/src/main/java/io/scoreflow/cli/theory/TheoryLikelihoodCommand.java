package io.scoreflow.cli.theory;

import io.scoreflow.InvalidInputException;
import io.scoreflow.cli.output.Describe;
import io.scoreflow.cli.output.Json;
import io.scoreflow.cli.output.Progress;
import io.scoreflow.math.DormandPrince;
import io.scoreflow.sample.FlowLikelihood;
import io.scoreflow.sde.ForwardSde;
import io.scoreflow.theory.GaussianLaw;
import io.scoreflow.theory.GaussianLikelihood;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code scoreflow theory likelihood}: the ODE likelihood of Gaussian data with the exact score.
 */
@Command(
    name = "likelihood",
    mixinStandardHelpOptions = true,
    description = {
      "Draws samples of N(M 1, S^2 I_D), computes their negative log-likelihood under the"
          + " probability-flow ODE of the exact score (instantaneous change of variables, RK45"
          + " from eps to T) and reports its mean per dimension, with standard error, next to the"
          + " closed form."
    })
public final class TheoryLikelihoodCommand implements Callable<Integer> {

  private static final int PROGRESS_UNITS = 1000;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--sde", required = true, paramLabel = "NAME", description = "The schedule.")
  String name;

  @Mixin SdeOptions sdeOptions;

  @Mixin GaussianDataOptions data;

  @Option(
      names = "--samples",
      paramLabel = "N",
      description = "Data samples, integrated as one batch (default 1000).")
  int samples = 1000;

  @Option(
      names = "--exact",
      description = "The exact divergence: D vector-Jacobian products per evaluation (default).")
  boolean exact;

  @Option(
      names = "--hutchinson",
      paramLabel = "PROBE",
      description =
          "Hutchinson-Skilling divergence with one gaussian or rademacher probe per sample, fixed"
              + " over the integration (one product per evaluation).")
  String hutchinson;

  @Option(names = "--rtol", paramLabel = "R", description = "RK45 relative tolerance (1e-5).")
  double rtol = 1e-5;

  @Option(names = "--atol", paramLabel = "A", description = "RK45 absolute tolerance (1e-5).")
  double atol = 1e-5;

  @Option(
      names = "--eps",
      paramLabel = "E",
      description = "Integration start time (default 1e-5, score_sde's likelihood eps).")
  double eps = FlowLikelihood.DEFAULT_EPS;

  @Option(names = "--seed", paramLabel = "S", description = "Seed (default 0).")
  long seed;

  @Option(names = "--json", description = "Print JSON.")
  boolean json;

  @Override
  public Integer call() {
    if (exact && hutchinson != null) {
      throw new InvalidInputException("--exact and --hutchinson exclude each other");
    }
    FlowLikelihood.Trace trace =
        hutchinson == null
            ? FlowLikelihood.Trace.EXACT
            : FlowLikelihood.Trace.hutchinson(hutchinson);
    ForwardSde sde = sdeOptions.single(name);
    GaussianLaw law = data.law();
    GaussianLikelihood.Options options =
        new GaussianLikelihood.Options(
            samples, trace, DormandPrince.Options.of(rtol, atol), eps, seed);
    Progress progress = new Progress(spec.commandLine().getErr(), "likelihood", PROGRESS_UNITS);
    double span = sde.horizon() - eps;
    GaussianLikelihood.Result r =
        GaussianLikelihood.run(
            sde,
            law,
            options,
            t ->
                progress.update(
                    Math.round(PROGRESS_UNITS * (t - eps) / span),
                    String.format(Locale.ROOT, "t=%.3g", t)));
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("estimate_nats_per_dim", r.estimate());
      m.put("stderr_nats_per_dim", r.stderr());
      m.put("exact_nats_per_dim", r.exact());
      m.put("marginal_nats_per_dim", r.marginal());
      m.put("data_entropy_nats_per_dim", r.dataEntropy());
      m.put("nfe", r.evaluations());
      m.put("divergence", trace.label());
      m.put("sde", sde.name());
      m.put("params", Describe.parameters(sde));
      m.put("dim", law.dim());
      m.put("data_mean", law.mean());
      m.put("data_std", law.std());
      m.put("samples", samples);
      m.put("eps", eps);
      m.put("rtol", rtol);
      m.put("atol", atol);
      Json.print(out, m);
      return 0;
    }
    out.printf(
        Locale.ROOT,
        "%s, data N(%s, %s^2 I_%d), %d samples, %s divergence, RK45 rtol %s atol %s from eps %s%n",
        Describe.sde(sde),
        law.mean(),
        law.std(),
        law.dim(),
        samples,
        trace.label(),
        rtol,
        atol,
        eps);
    out.printf(
        Locale.ROOT,
        "estimate   %.6f ± %.6f nats/dim  (%d evaluations)%n",
        r.estimate(),
        r.stderr(),
        r.evaluations());
    out.printf(
        Locale.ROOT,
        "exact      %.6f nats/dim  (-E log q_eps: the prior pulled back by the exact flow)%n",
        r.exact());
    out.printf(Locale.ROOT, "marginal   %.6f nats/dim  (-E log p_eps)%n", r.marginal());
    out.printf(Locale.ROOT, "entropy    %.6f nats/dim  (of the data)%n", r.dataEntropy());
    out.printf(
        Locale.ROOT, "difference %.2f standard errors%n", (r.estimate() - r.exact()) / r.stderr());
    return 0;
  }
}
