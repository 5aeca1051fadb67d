package io.scoreflow.cli.theory;

import io.scoreflow.theory.GaussianLaw;
import picocli.CommandLine.Option;

/** The Gaussian data N(M·1, S² I_D) of the theory lab. */
public final class GaussianDataOptions {

  @Option(names = "--dim", required = true, paramLabel = "D", description = "Data dimension.")
  int dim;

  @Option(
      names = "--data-mean",
      paramLabel = "M",
      description = "Mean of every coordinate (default 0).")
  double mean = 0;

  @Option(
      names = "--data-std",
      paramLabel = "S",
      description = "Std of every coordinate (default 1).")
  double std = 1;

  GaussianLaw law() {
    io.scoreflow.InvalidInputException.require(dim >= 1, "--dim must be >= 1, got %s", dim);
    io.scoreflow.InvalidInputException.require(
        Double.isFinite(mean), "--data-mean must be finite, got %s", mean);
    io.scoreflow.InvalidInputException.require(
        std >= 0 && Double.isFinite(std), "--data-std must be >= 0, got %s", std);
    return new GaussianLaw(mean, std, dim);
  }
}
