package io.scoreflow.cli;

import io.scoreflow.InvalidInputException;
import io.scoreflow.cli.bench.BenchCommand;
import io.scoreflow.cli.cluster.CoordinatorCommand;
import io.scoreflow.cli.cluster.WorkerCommand;
import io.scoreflow.cli.eval.EvalCommand;
import io.scoreflow.cli.model.ModelCommand;
import io.scoreflow.cli.sample.SampleCommand;
import io.scoreflow.cli.theory.SdeCommand;
import io.scoreflow.cli.theory.TheoryCommand;
import io.scoreflow.cli.train.TrainCommand;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code scoreflow} command. */
@Command(
    name = "scoreflow",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Distributed training of score-based generative models.",
    subcommands = {
      SdeCommand.class,
      TheoryCommand.class,
      TrainCommand.class,
      CoordinatorCommand.class,
      WorkerCommand.class,
      SampleCommand.class,
      BenchCommand.class,
      ModelCommand.class,
      EvalCommand.class,
      io.scoreflow.cli.certs.CertsCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main {

  /** Exit code for bad input (flags, config, files): one line on stderr, no stack trace. */
  public static final int EXIT_BAD_INPUT = 2;

  public static void main(String[] args) {
    System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  /** Runs the CLI with the given streams; returns the exit code. */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    System.setProperty("java.awt.headless", "true");
    CommandLine cli = new CommandLine(new Main());
    cli.setOut(out);
    cli.setErr(err);
    cli.setParameterExceptionHandler(
        (e, a) -> {
          String command = e.getCommandLine().getCommandSpec().qualifiedName();
          err.println("scoreflow: error: " + e.getMessage() + " (see '" + command + " --help')");
          return EXIT_BAD_INPUT;
        });
    cli.setExecutionExceptionHandler(
        (e, c, parsed) -> {
          InvalidInputException bad = findBadInput(e);
          if (bad != null) {
            err.println("scoreflow: error: " + bad.getMessage());
            return EXIT_BAD_INPUT;
          }
          throw e;
        });
    return cli.execute(args);
  }

  private static InvalidInputException findBadInput(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof InvalidInputException bad) {
        return bad;
      }
    }
    return null;
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"scoreflow " + (v == null ? "dev" : v)};
    }
  }
}
