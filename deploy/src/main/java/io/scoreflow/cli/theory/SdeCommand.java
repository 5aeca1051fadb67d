package io.scoreflow.cli.theory;

import io.scoreflow.cli.output.Describe;
import io.scoreflow.cli.output.Json;
import io.scoreflow.sde.ForwardSde;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code scoreflow sde}: f, g, a1 and a2 of a forward SDE at given times. */
@Command(
    name = "sde",
    mixinStandardHelpOptions = true,
    description = {
      "Prints f(t), g(t), the mean coefficient a1(t) and the transition variance a2(t) of the"
          + " forward SDE dx = -f(t) x dt + g(t) dB."
    })
public final class SdeCommand implements Callable<Integer> {

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--sde", required = true, paramLabel = "NAME", description = "The schedule.")
  String name;

  @Mixin SdeOptions sdeOptions;

  @Option(
      names = "--t",
      required = true,
      split = ",",
      paramLabel = "T",
      description = "Times in [0, T], comma-separated.")
  List<Double> times;

  @Option(names = "--json", description = "Print JSON.")
  boolean json;

  @Override
  public Integer call() {
    ForwardSde sde = sdeOptions.single(name);
    List<Map<String, Object>> rows = new ArrayList<>();
    for (double t : times) {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("t", t);
      row.put("f", sde.f(t));
      row.put("g", sde.g(t));
      row.put("mean_coeff", sde.meanCoeff(t));
      row.put("variance", sde.variance(t));
      rows.add(row);
    }
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      Json.print(out, rows);
      return 0;
    }
    out.println(Describe.sde(sde));
    out.printf(
        Locale.ROOT,
        "%12s  %18s  %18s  %18s  %18s%n",
        "t",
        "f",
        "g",
        "mean_coeff a1",
        "variance a2");
    for (Map<String, Object> row : rows) {
      out.printf(
          Locale.ROOT,
          "%12s  %18s  %18s  %18s  %18s%n",
          row.get("t"),
          Describe.g((double) row.get("f")),
          Describe.g((double) row.get("g")),
          Describe.g((double) row.get("mean_coeff")),
          Describe.g((double) row.get("variance")));
    }
    return 0;
  }
}
