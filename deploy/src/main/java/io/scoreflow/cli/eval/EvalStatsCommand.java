package io.scoreflow.cli.eval;

import ai.djl.ndarray.types.DataType;
import io.scoreflow.InvalidInputException;
import io.scoreflow.cli.output.Json;
import io.scoreflow.eval.GaussianStats;
import io.scoreflow.eval.StatsFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code scoreflow eval stats}: caches the Gaussian fit of a feature set. */
@Command(
    name = "stats",
    mixinStandardHelpOptions = true,
    description = {
      "Fits mean and covariance (N-1 denominator) to the 'features' tensor of a safetensors file"
          + " and writes them as 'mu', 'sigma' and 'samples' to OUT, so that reference statistics"
          + " of a dataset are computed once and given to `eval fd` thereafter."
    })
public final class EvalStatsCommand implements Callable<Integer> {

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--features",
      required = true,
      paramLabel = "FILE",
      description = "Features (or statistics) to fit.")
  Path features;

  @Option(names = "--out", required = true, paramLabel = "FILE", description = "Output file.")
  Path out;

  @Option(
      names = "--dtype",
      paramLabel = "T",
      description = "float64 (default) or float32 for the saved statistics.")
  String dtype = "float64";

  @Option(names = "--json", description = "Print JSON.")
  boolean json;

  @Override
  public Integer call() {
    DataType type =
        switch (dtype) {
          case "float64" -> DataType.FLOAT64;
          case "float32" -> DataType.FLOAT32;
          default ->
              throw new InvalidInputException(
                  "--dtype must be float64 or float32, got '" + dtype + "'");
        };
    GaussianStats stats = StatsFiles.load(features);
    try {
      StatsFiles.save(stats, out, type);
    } catch (IOException e) {
      throw new InvalidInputException("cannot write " + out + ": " + e, e);
    }
    PrintWriter printer = spec.commandLine().getOut();
    Long samples = stats.samples().isPresent() ? stats.samples().getAsLong() : null;
    if (json) {
      Map<String, Object> result = new LinkedHashMap<>();
      result.put("out", out.toString());
      result.put("dim", stats.dim());
      result.put("samples", samples);
      result.put("dtype", dtype);
      Json.print(printer, result);
      return 0;
    }
    printer.printf(
        Locale.ROOT,
        "wrote %s: mu and sigma of dimension %d (%s), %s%n",
        out,
        stats.dim(),
        dtype,
        samples == null ? "sample count unknown" : samples + " samples");
    return 0;
  }
}
