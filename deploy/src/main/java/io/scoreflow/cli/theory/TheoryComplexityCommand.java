package io.scoreflow.cli.theory;

import io.scoreflow.cli.output.Describe;
import io.scoreflow.cli.output.Json;
import io.scoreflow.sde.ForwardSde;
import io.scoreflow.theory.IterationComplexity;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code scoreflow theory complexity}: K from the paper's Table 2. */
@Command(
    name = "complexity",
    mixinStandardHelpOptions = true,
    description = {
      "Leading-order number of Euler-Maruyama steps K for W2 accuracy eps in dimension d, from"
          + " Table 2 of Gao, Nguyen & Zhu, with every hidden constant set to 1 and natural logs."
    })
public final class TheoryComplexityCommand implements Callable<Integer> {

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--sde", required = true, paramLabel = "NAME", description = "The schedule.")
  String name;

  @Mixin SdeOptions sdeOptions;

  @Option(names = "--dim", required = true, paramLabel = "D", description = "Data dimension.")
  double dim;

  @Option(names = "--eps", required = true, paramLabel = "E", description = "W2 accuracy.")
  double eps;

  @Option(names = "--json", description = "Print JSON.")
  boolean json;

  @Override
  public Integer call() {
    ForwardSde sde = sdeOptions.single(name);
    IterationComplexity.Estimate k = IterationComplexity.of(sde.spec(), dim, eps);
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      Map<String, Object> result = new LinkedHashMap<>();
      result.put("K", k.steps());
      result.put("row", k.row().number());
      result.put("row_schedule", k.row().schedule());
      result.put("row_complexity", k.row().complexity());
      if (!Double.isNaN(k.exponent())) {
        result.put("exponent", k.exponent());
      }
      result.put("sde", sde.name());
      result.put("params", Describe.parameters(sde));
      result.put("dim", Describe.number(dim));
      result.put("eps", eps);
      Json.print(out, result);
      return 0;
    }
    out.printf(Locale.ROOT, "%s, d = %s, eps = %s%n", Describe.sde(sde), Describe.number(dim), eps);
    out.printf(
        Locale.ROOT,
        "Table 2, row %d: %s  =>  K ~ %s%n",
        k.row().number(),
        k.row().schedule(),
        k.row().complexity());
    if (!Double.isNaN(k.exponent())) {
      out.printf(Locale.ROOT, "exponent    %s%n", Describe.g(k.exponent()));
    }
    out.printf(Locale.ROOT, "K           %s%n", Describe.g(k.steps()));
    return 0;
  }
}
