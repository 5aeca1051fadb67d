package io.scoreflow.cli;

import com.typesafe.config.ConfigException;
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
import io.scoreflow.train.TrainingDivergedException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
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
      io.scoreflow.cli.sweep.SweepCommand.class,
      io.scoreflow.cli.sweep.PoolCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main {

  /**
   * Exit code of a run that started and failed: training diverged, a distributed job failed, an I/O
   * error while it ran. One line on stderr; the run directory keeps what was checkpointed.
   */
  public static final int EXIT_FAILED = 1;

  /**
   * Exit code for bad input (flags, config, files): one line on stderr, no stack trace, nothing
   * started and nothing written.
   */
  public static final int EXIT_BAD_INPUT = 2;

  /** Exit code of a bug (sysexits' EX_SOFTWARE): "internal error" and the stack trace. */
  public static final int EXIT_INTERNAL = 70;

  private static final String ERROR = "scoreflow: error: ";

  public static void main(String[] args) {
    System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  /** Runs the CLI with the given streams; returns the exit code. */
  public static int run(String[] args, PrintWriter out, PrintWriter stderr) {
    System.setProperty("java.awt.headless", "true");
    // An error must start its own line, also after a progress line that a terminal redraws in
    // place.
    LineEnd lineEnd = new LineEnd(stderr);
    PrintWriter err = new PrintWriter(lineEnd, true);
    CommandLine cli = new CommandLine(new Main());
    cli.setOut(out);
    cli.setErr(err);
    cli.setParameterExceptionHandler(
        (e, a) -> {
          String command = e.getCommandLine().getCommandSpec().qualifiedName();
          err.println(ERROR + oneLine(e.getMessage()) + " (see '" + command + " --help')");
          return EXIT_BAD_INPUT;
        });
    cli.setExecutionExceptionHandler(
        (e, c, parsed) -> {
          if (lineEnd.midLine) {
            err.println();
          }
          return report(e, err);
        });
    int code = cli.execute(args);
    err.flush();
    return code;
  }

  /** Passes text on, remembering whether the last character written ended a line. */
  private static final class LineEnd extends Writer {
    private final Writer out;
    private volatile boolean midLine;

    LineEnd(Writer out) {
      this.out = out;
    }

    @Override
    public void write(char[] text, int offset, int length) throws IOException {
      if (length > 0) {
        midLine = text[offset + length - 1] != '\n';
      }
      out.write(text, offset, length);
    }

    @Override
    public void flush() throws IOException {
      out.flush();
    }

    @Override
    public void close() throws IOException {
      out.flush();
    }
  }

  /**
   * Reports what a command threw and returns the exit code: one line for everything the user can
   * act on (bad input, a diverged training, a config value, a file), "internal error" with the
   * stack trace for a bug.
   */
  static int report(Throwable e, PrintWriter err) {
    InvalidInputException bad = find(e, InvalidInputException.class);
    if (bad != null) {
      err.println(ERROR + oneLine(bad.getMessage()));
      return EXIT_BAD_INPUT;
    }
    TrainingDivergedException diverged = find(e, TrainingDivergedException.class);
    if (diverged != null) {
      err.println(ERROR + oneLine(diverged.getMessage()));
      return EXIT_FAILED;
    }
    ConfigException config = find(e, ConfigException.class);
    if (config != null) {
      // A config value read without ConfigValues: still the user's input, still one line.
      err.println(ERROR + "config: " + oneLine(config.getMessage()));
      return EXIT_BAD_INPUT;
    }
    IOException io = find(e, IOException.class);
    if (io != null) {
      err.println(ERROR + oneLine(describe(e, io)));
      return isPathProblem(io) ? EXIT_BAD_INPUT : EXIT_FAILED;
    }
    err.println(
        "scoreflow: internal error (a bug; please report it with this trace): " + oneLine("" + e));
    e.printStackTrace(err);
    err.flush();
    return EXIT_INTERNAL;
  }

  /** A missing, unreadable or misplaced file or directory: the path the user gave is wrong. */
  private static boolean isPathProblem(IOException io) {
    return io instanceof NoSuchFileException
        || io instanceof AccessDeniedException
        || io instanceof NotDirectoryException
        || io instanceof FileAlreadyExistsException
        || io instanceof FileNotFoundException;
  }

  /** "cannot write X: /a/b: no such file or directory" from the wrapper's and the cause's text. */
  private static String describe(Throwable top, IOException io) {
    String what = io.getMessage() == null ? io.getClass().getSimpleName() : io.getMessage();
    if (io instanceof FileSystemException f && f.getFile() != null) {
      String reason;
      if (f instanceof NoSuchFileException) {
        reason = "no such file or directory";
      } else if (f instanceof AccessDeniedException) {
        reason = "permission denied";
      } else if (f instanceof NotDirectoryException) {
        reason = "not a directory";
      } else if (f instanceof FileAlreadyExistsException) {
        reason = "already exists";
      } else {
        reason = f.getReason() == null ? f.getClass().getSimpleName() : f.getReason();
      }
      what =
          f.getFile() + (f.getOtherFile() == null ? "" : " -> " + f.getOtherFile()) + ": " + reason;
    }
    for (Throwable t = top; t != null && t != io; t = t.getCause()) {
      if (t instanceof UncheckedIOException u
          && u.getMessage() != null
          && !u.getMessage().equals(String.valueOf(io))) {
        return u.getMessage() + ": " + what;
      }
    }
    return what;
  }

  private static String oneLine(String message) {
    return message == null ? "" : message.strip().replaceAll("\\s*\\R\\s*", " ");
  }

  private static <T extends Throwable> T find(Throwable e, Class<T> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return type.cast(t);
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
