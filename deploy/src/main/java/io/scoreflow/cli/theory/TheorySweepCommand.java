package io.scoreflow.cli.theory;

import io.scoreflow.cli.output.Describe;
import io.scoreflow.cli.output.Json;
import io.scoreflow.sde.ForwardSde;
import io.scoreflow.theory.GaussianLaw;
import io.scoreflow.theory.SweepChart;
import io.scoreflow.theory.W2Sweep;
import java.io.PrintWriter;
import java.nio.file.Path;
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

/** {@code scoreflow theory sweep}: W2 against K for several SDEs, on one log–log chart. */
@Command(
    name = "sweep",
    mixinStandardHelpOptions = true,
    description = {
      "Exact W2 of the Euler-Maruyama sampler against the number of steps K for several SDEs,"
          + " with the fitted log-log slope of each curve, optionally drawn as a PNG chart.",
      "Each SDE may carry its own values: --sde vp-poly:rho=3,vp-poly:rho=5,vp-linear."
    })
public final class TheorySweepCommand implements Callable<Integer> {

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--sde",
      required = true,
      split = ",",
      paramLabel = "NAME[:k=v]",
      description = "Schedules, comma-separated.")
  List<String> names;

  @Mixin SdeOptions sdeOptions;

  @Mixin GaussianDataOptions data;

  @Option(
      names = "--steps",
      required = true,
      paramLabel = "LIST",
      description = "Step counts: 10,20,50 or FROM..TO:COUNT (log-spaced), e.g. 10..1000:12.")
  String steps;

  @Option(names = "--plot", paramLabel = "PNG", description = "Write the log-log chart here.")
  Path plot;

  @Option(names = "--json", description = "Print JSON.")
  boolean json;

  @Override
  public Integer call() {
    List<Integer> stepList = StepList.parse(steps);
    GaussianLaw target = data.law();
    List<W2Sweep.Curve> curves = new ArrayList<>();
    List<String> labels = new ArrayList<>();
    List<ForwardSde> sdes = sdeOptions.several(names);
    for (int i = 0; i < sdes.size(); i++) {
      ForwardSde sde = sdes.get(i);
      // The user's own words name each curve: short, and unique whenever the inputs differ.
      String label = names.get(i).trim();
      labels.add(label);
      curves.add(W2Sweep.curve(label, sde, stepList, target));
    }
    if (plot != null) {
      SweepChart.write(curves, target, plot);
    }
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      List<Map<String, Object>> jsonCurves = new ArrayList<>();
      for (W2Sweep.Curve c : curves) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("sde", c.sde().name());
        m.put("label", c.label());
        m.put("params", Describe.parameters(c.sde()));
        m.put("slope", Double.isNaN(c.slope()) ? null : c.slope());
        m.put(
            "points",
            c.points().stream().map(p -> Map.of("steps", p.steps(), "w2", p.w2())).toList());
        jsonCurves.add(m);
      }
      Map<String, Object> result = new LinkedHashMap<>();
      result.put("dim", target.dim());
      result.put("data_mean", target.mean());
      result.put("data_std", target.std());
      result.put("curves", jsonCurves);
      result.put("plot", plot == null ? null : plot.toString());
      Json.print(out, result);
      return 0;
    }
    out.printf(
        Locale.ROOT,
        "W2 of Euler-Maruyama (exact score) to N(%s, %s^2 I_%d)%n",
        target.mean(),
        target.std(),
        target.dim());
    int width = Math.max(13, labels.stream().mapToInt(String::length).max().orElse(0));
    String cell = "  %" + width + "s";
    StringBuilder header = new StringBuilder(String.format(Locale.ROOT, "%8s", "K"));
    for (String label : labels) {
      header.append(String.format(Locale.ROOT, cell, label));
    }
    out.println(header);
    for (int row = 0; row < stepList.size(); row++) {
      StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%8d", stepList.get(row)));
      for (W2Sweep.Curve c : curves) {
        line.append(
            String.format(
                Locale.ROOT, cell, String.format(Locale.ROOT, "%.6e", c.points().get(row).w2())));
      }
      out.println(line);
    }
    StringBuilder slopes = new StringBuilder(String.format(Locale.ROOT, "%8s", "slope"));
    for (W2Sweep.Curve c : curves) {
      slopes.append(
          String.format(Locale.ROOT, cell, String.format(Locale.ROOT, "%.4f", c.slope())));
    }
    out.println(slopes);
    for (W2Sweep.Curve c : curves) {
      out.println(c.label() + " = " + Describe.sde(c.sde()));
    }
    if (plot != null) {
      out.println("plot: " + plot);
    }
    return 0;
  }
}
