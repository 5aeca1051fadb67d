package io.scoreflow.cli.eval;

import picocli.CommandLine.Command;

/** {@code scoreflow eval}: evaluation maths over feature files. */
@Command(
    name = "eval",
    mixinStandardHelpOptions = true,
    description =
        "Evaluation: Frechet distance and KID between feature sets, cached reference statistics,"
            + " bits/dim.",
    subcommands = {
      EvalFdCommand.class,
      EvalKidCommand.class,
      EvalStatsCommand.class,
      EvalLikelihoodCommand.class
    })
public final class EvalCommand {}
