package io.scoreflow.bench;

import io.scoreflow.worker.ChildJvm;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A {@link RingWorkerMain} child process, started as every scoreflow child is ({@link ChildJvm}),
 * or another child of the same line protocol. Lines go in through stdin and come back through
 * stdout; stderr goes to a temporary file whose tail is quoted when the child misbehaves.
 */
final class RingWorkerProcess implements AutoCloseable {

  private static final String EOF = "\u0000EOF";

  /** The first words of {@link RingWorkerMain}'s answers. */
  private static final Set<String> ANSWERS =
      Set.of("PORT", "READY", "OK", "FAIL", "TIMES", "TCP_PORT", "PLAIN_PORT", "ERROR");

  private final Process process;
  private final Writer stdin;
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
  private final Path stderr;
  private final String name;

  private RingWorkerProcess(String name, ProcessBuilder pb) throws IOException {
    this.name = name;
    this.stderr = Files.createTempFile("scoreflow-" + name + "-", ".log");
    pb.redirectError(stderr.toFile());
    this.process = pb.start();
    this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    Thread pump =
        new Thread(
            () -> {
              try (BufferedReader out =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = out.readLine()) != null; ) {
                  lines.add(line);
                }
              } catch (IOException e) {
                // The process ended; EOF below says so.
              }
              lines.add(EOF);
            },
            name + "-stdout");
    pump.setDaemon(true);
    pump.start();
  }

  static RingWorkerProcess start(String name, List<String> jvmOptions) {
    return start(name, ChildJvm.builder(jvmOptions, RingWorkerMain.class.getName(), List.of()));
  }

  /**
   * Any child that speaks the same line protocol ({@code QUIT}, answers starting with one of the
   * known words), such as the gloo reference's Python ranks ({@link GlooReference}).
   */
  static RingWorkerProcess start(String name, ProcessBuilder command) {
    try {
      return new RingWorkerProcess(name, command);
    } catch (IOException e) {
      throw new UncheckedIOException("could not start worker process " + name, e);
    }
  }

  void send(String line) {
    try {
      stdin.write(line);
      stdin.write('\n');
      stdin.flush();
    } catch (IOException e) {
      throw new IllegalStateException(
          name + " does not accept commands any more" + stderrTail(), e);
    }
  }

  /**
   * The next protocol line, which must be {@code prefix} or start with {@code prefix + " "};
   * returns the rest of it. Lines that are not protocol answers (a JVM agent's banner, say) are
   * skipped.
   */
  String expect(String prefix, long timeout, TimeUnit unit) {
    long deadline = System.nanoTime() + unit.toNanos(timeout);
    while (true) {
      String line;
      try {
        line = lines.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for " + name, e);
      }
      if (line == null) {
        throw new IllegalStateException(
            name + " did not answer " + prefix + " within " + timeout + " " + unit + stderrTail());
      }
      if (line.equals(EOF)) {
        lines.add(EOF);
        throw new IllegalStateException(name + " exited" + stderrTail());
      }
      if (line.equals(prefix)) {
        return "";
      }
      if (line.startsWith(prefix + " ")) {
        return line.substring(prefix.length() + 1);
      }
      if (ANSWERS.contains(line.split(" ", 2)[0])) {
        throw new IllegalStateException(
            name + " answered '" + line + "' instead of " + prefix + stderrTail());
      }
    }
  }

  private String stderrTail() {
    try {
      List<String> all = Files.readAllLines(stderr, StandardCharsets.UTF_8);
      List<String> tail = all.subList(Math.max(0, all.size() - 15), all.size());
      return tail.isEmpty() ? "" : "; its stderr ends with:\n  " + String.join("\n  ", tail);
    } catch (IOException e) {
      return "";
    }
  }

  /** Asks the child to quit, then kills it if it does not within a few seconds. */
  @Override
  public void close() {
    try {
      if (process.isAlive()) {
        send("QUIT");
        stdin.close();
      }
    } catch (IOException | RuntimeException e) {
      // It is going away anyway.
    }
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    try {
      Files.deleteIfExists(stderr);
    } catch (IOException e) {
      // A temporary file; leave it.
    }
  }
}
