package io.scoreflow.cli.eval;

import io.scoreflow.InvalidInputException;
import io.scoreflow.cli.output.Describe;
import io.scoreflow.cli.output.Json;
import io.scoreflow.eval.FrechetDistance;
import io.scoreflow.eval.GaussianStats;
import io.scoreflow.eval.StatsFiles;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code scoreflow eval fd}: the Fréchet distance between two feature sets. */
@Command(
    name = "fd",
    mixinStandardHelpOptions = true,
    description = {
      "Frechet distance between the Gaussian fits of two feature sets: |mu1-mu2|^2 + tr(S1 + S2 -"
          + " 2 (S1^1/2 S2 S1^1/2)^1/2), covariances with the N-1 denominator (FID when the"
          + " features are Inception pool features). Each file is safetensors holding either a 2-D"
          + " tensor 'features' (rows = samples) or precomputed 'mu' and 'sigma' (see `eval"
          + " stats`)."
    })
public final class EvalFdCommand implements Callable<Integer> {

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--a", required = true, paramLabel = "FILE", description = "First set.")
  Path a;

  @Option(names = "--b", required = true, paramLabel = "FILE", description = "Second set.")
  Path b;

  @Option(names = "--json", description = "Print JSON.")
  boolean json;

  @Override
  public Integer call() {
    GaussianStats first = StatsFiles.load(a);
    GaussianStats second = StatsFiles.load(b);
    InvalidInputException.require(
        first.dim() == second.dim(),
        "%s has %d feature dimensions but %s has %d",
        a,
        first.dim(),
        b,
        second.dim());
    double fd = FrechetDistance.between(first, second);
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      Map<String, Object> result = new LinkedHashMap<>();
      result.put("fd", fd);
      result.put("dim", first.dim());
      result.put("a", a.toString());
      result.put("b", b.toString());
      result.put("samples_a", samples(first));
      result.put("samples_b", samples(second));
      Json.print(out, result);
      return 0;
    }
    out.printf(Locale.ROOT, "a    %s (%s)%n", a, describe(first));
    out.printf(Locale.ROOT, "b    %s (%s)%n", b, describe(second));
    out.printf(Locale.ROOT, "dim  %d%n", first.dim());
    out.printf(Locale.ROOT, "FD   %s%n", Describe.g(fd));
    return 0;
  }

  private static Long samples(GaussianStats s) {
    return s.samples().isPresent() ? s.samples().getAsLong() : null;
  }

  private static String describe(GaussianStats s) {
    return s.samples().isPresent()
        ? s.samples().getAsLong() + " samples"
        : "precomputed statistics, sample count unknown";
  }
}
