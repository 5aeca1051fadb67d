package io.scoreflow.cli.bench;

import picocli.CommandLine.Command;

/** {@code scoreflow bench}: benchmarks that print JSON and compare against a same-run baseline. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Benchmarks: each prints JSON with its own baseline measured in the same run.",
    subcommands = {
      BenchStepCommand.class,
      BenchAllReduceCommand.class,
      BenchScalingCommand.class,
      BenchConvergenceCommand.class,
      BenchNetworkCommand.class
    })
public final class BenchCommand {}
