package io.scoreflow.cli.eval;

import picocli.CommandLine.Command;

/** {@code scoreflow eval}: evaluation maths over feature files. */
@Command(
    name = "eval",
    mixinStandardHelpOptions = true,
    description =
        "Evaluation: Frechet distance and KID between feature sets, cached reference statistics.",
    subcommands = {EvalFdCommand.class, EvalKidCommand.class, EvalStatsCommand.class})
public final class EvalCommand {}
