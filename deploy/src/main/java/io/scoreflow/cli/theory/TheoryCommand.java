package io.scoreflow.cli.theory;

import picocli.CommandLine.Command;

/** {@code scoreflow theory}: the theory lab. */
@Command(
    name = "theory",
    mixinStandardHelpOptions = true,
    description =
        "The theory lab: exact sampler error and ODE likelihood on Gaussian data, and iteration"
            + " complexity.",
    subcommands = {
      TheoryW2Command.class,
      TheoryComplexityCommand.class,
      TheorySweepCommand.class,
      TheoryLearnedCommand.class,
      TheoryLikelihoodCommand.class
    })
public final class TheoryCommand {}
