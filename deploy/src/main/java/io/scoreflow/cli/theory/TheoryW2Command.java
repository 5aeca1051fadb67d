package io.scoreflow.cli.theory;

import io.scoreflow.InvalidInputException;
import io.scoreflow.cli.output.Describe;
import io.scoreflow.cli.output.Json;
import io.scoreflow.sample.Corrector;
import io.scoreflow.sample.Predictor;
import io.scoreflow.sde.ForwardSde;
import io.scoreflow.theory.GaussianLaw;
import io.scoreflow.theory.SamplerRecursion;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code scoreflow theory w2}: the exact W2 error of the Euler–Maruyama sampler. */
@Command(
    name = "w2",
    mixinStandardHelpOptions = true,
    description = {
      "Exact W2 between the output law of the Euler-Maruyama sampler (exact score, exact-variance"
          + " prior N(0, a2(T) I), eta = T/K, score at s = T - k eta) and the data N(M 1, S^2 I_D),"
          + " through the closed Gaussian recursion (no sampling noise); with --predictor, of the"
          + " pc sampler with that predictor and corrector none or ald."
    })
public final class TheoryW2Command implements Callable<Integer> {

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--sde", required = true, paramLabel = "NAME", description = "The schedule.")
  String name;

  @Mixin SdeOptions sdeOptions;

  @Mixin GaussianDataOptions data;

  @Option(names = "--steps", required = true, paramLabel = "K", description = "Sampler steps.")
  int steps;

  @Option(
      names = "--predictor",
      paramLabel = "P",
      description =
          "The law of the pc sampler with this predictor instead (euler-maruyama,"
              + " reverse-diffusion, ancestral; its last step denoised, as `sample --sampler pc`).")
  String predictor;

  @Option(
      names = "--corrector",
      paramLabel = "C",
      description =
          "With --predictor: none (default) or ald; langevin has no exact law (its step depends on"
              + " the batch).")
  String corrector;

  @Option(names = "--snr", paramLabel = "X", description = "ald's snr (default 0.16).")
  Double snr;

  @Option(
      names = "--corrector-steps",
      paramLabel = "N",
      description = "ald's steps per predictor step (default 1).")
  Integer correctorSteps;

  @Option(names = "--json", description = "Print JSON.")
  boolean json;

  @Override
  public Integer call() {
    ForwardSde sde = sdeOptions.single(name);
    GaussianLaw target = data.law();
    if (predictor == null && (corrector != null || snr != null || correctorSteps != null)) {
      throw new InvalidInputException(
          "--corrector, --snr and --corrector-steps apply with --predictor only");
    }
    Corrector c =
        predictor == null
            ? null
            : Corrector.of(
                corrector == null ? "none" : corrector,
                snr == null ? 0.16 : snr,
                correctorSteps == null ? 1 : correctorSteps);
    GaussianLaw output =
        predictor == null
            ? SamplerRecursion.eulerMaruyama(sde, steps, target)
            : SamplerRecursion.predictorCorrector(
                sde, steps, Predictor.of(predictor, sde), c, true, target);
    double w2 = output.w2(target);
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      Map<String, Object> result = new LinkedHashMap<>();
      result.put("w2", w2);
      result.put("mean", output.mean());
      result.put("std", output.std());
      result.put("sde", sde.name());
      result.put("params", Describe.parameters(sde));
      result.put("steps", steps);
      result.put("sampler", predictor == null ? "euler-maruyama" : "pc");
      if (predictor != null) {
        result.put("predictor", Predictor.of(predictor, sde).name());
        result.put("corrector", c.name());
      }
      result.put("dim", target.dim());
      result.put("data_mean", target.mean());
      result.put("data_std", target.std());
      Json.print(out, result);
      return 0;
    }
    out.printf(
        Locale.ROOT,
        "%s, %sK = %d, data N(%s, %s^2 I_%d)%n",
        Describe.sde(sde),
        predictor == null ? "" : "pc " + predictor + " + " + c.name() + ", ",
        steps,
        target.mean(),
        target.std(),
        target.dim());
    out.printf(
        Locale.ROOT,
        "output law  N(%s, %s^2 I) per coordinate%n",
        Describe.g(output.mean()),
        Describe.g(output.std()));
    out.printf(Locale.ROOT, "W2          %s%n", Describe.g(w2));
    return 0;
  }
}
