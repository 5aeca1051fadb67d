package io.scoreflow.cli.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.scoreflow.InvalidInputException;
import io.scoreflow.cli.output.Describe;
import io.scoreflow.cli.output.Json;
import io.scoreflow.cli.output.Progress;
import io.scoreflow.eval.KernelInceptionDistance;
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

/** {@code scoreflow eval kid}: the Kernel Inception Distance between two feature sets. */
@Command(
    name = "kid",
    mixinStandardHelpOptions = true,
    description = {
      "Kernel Inception Distance between two feature sets (as clean-fid and torch-fidelity): the"
          + " unbiased MMD^2 with the kernel k(x,y) = (x.y/d + 1)^3, averaged over K subsets of M"
          + " rows of each set drawn without replacement. Each file is safetensors holding a 2-D"
          + " tensor 'features' (rows = samples), as for `eval fd`; precomputed mu/sigma are not"
          + " enough."
    })
public final class EvalKidCommand implements Callable<Integer> {

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--a", required = true, paramLabel = "FILE", description = "First set.")
  Path a;

  @Option(names = "--b", required = true, paramLabel = "FILE", description = "Second set.")
  Path b;

  @Option(
      names = "--subset-size",
      paramLabel = "M",
      description = "Rows per subset (default 1000, capped at the smaller feature count).")
  int subsetSize = KernelInceptionDistance.DEFAULT_SUBSET_SIZE;

  @Option(names = "--subsets", paramLabel = "K", description = "Subsets (default 100).")
  int subsets = KernelInceptionDistance.DEFAULT_SUBSETS;

  @Option(names = "--seed", paramLabel = "S", description = "Seed of the subsets (default 0).")
  long seed;

  @Option(names = "--json", description = "Print JSON.")
  boolean json;

  @Override
  public Integer call() {
    PrintWriter err = spec.commandLine().getErr();
    InvalidInputException.require(
        subsetSize >= 2, "--subset-size must be >= 2, got %s", subsetSize);
    InvalidInputException.require(subsets >= 1, "--subsets must be >= 1, got %s", subsets);
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray first = StatsFiles.features(a, manager);
      NDArray second = StatsFiles.features(b, manager);
      long dim = first.getShape().get(1);
      InvalidInputException.require(
          dim == second.getShape().get(1),
          "%s has %d feature dimensions but %s has %d",
          a,
          dim,
          b,
          second.getShape().get(1));
      long na = first.getShape().get(0);
      long nb = second.getShape().get(0);
      if (subsetSize > Math.min(na, nb)) {
        err.printf(
            Locale.ROOT,
            "scoreflow: note: --subset-size %d capped at %d, the smaller feature count%n",
            subsetSize,
            Math.min(na, nb));
      }
      Progress progress = new Progress(err, "kid", subsets);
      KernelInceptionDistance.Result r =
          KernelInceptionDistance.between(
              first, second, subsetSize, subsets, seed, k -> progress.update(k, ""));
      PrintWriter out = spec.commandLine().getOut();
      if (json) {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("kid", r.kid());
        result.put("kid_std", r.std());
        result.put("subset_size", r.subsetSize());
        result.put("subsets", r.subsets());
        result.put("seed", seed);
        result.put("dim", dim);
        result.put("a", a.toString());
        result.put("b", b.toString());
        result.put("samples_a", na);
        result.put("samples_b", nb);
        Json.print(out, result);
        return 0;
      }
      out.printf(Locale.ROOT, "a       %s (%d samples)%n", a, na);
      out.printf(Locale.ROOT, "b       %s (%d samples)%n", b, nb);
      out.printf(Locale.ROOT, "dim     %d%n", dim);
      out.printf(
          Locale.ROOT, "subsets %d of %d rows, seed %d%n", r.subsets(), r.subsetSize(), seed);
      out.printf(Locale.ROOT, "KID     %s ± %s%n", Describe.g(r.kid()), Describe.g(r.std()));
      return 0;
    }
  }
}
