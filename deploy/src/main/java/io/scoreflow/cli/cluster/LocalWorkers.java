package io.scoreflow.cli.cluster;

import io.scoreflow.run.HostPort;
import io.scoreflow.worker.ChildJvm;
import io.scoreflow.worker.exchange.ExchangeKind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The worker processes of {@code train --workers N} on this machine: child JVMs ({@link ChildJvm})
 * running {@code scoreflow worker}, each logging to {@code LOGS/worker-K.log}. They are the
 * launcher's children: closing this destroys any still alive. A worker that dies while the job runs
 * is started again under the same id ({@link #restartDead}), up to a number of times per worker:
 * the coordinator takes it back into the ring.
 */
public final class LocalWorkers implements AutoCloseable {

  private final List<Process> processes;
  private final List<String> ids;
  private final List<Path> logs;
  private final List<ProcessBuilder> builders = new ArrayList<>();
  private final List<Integer> restarts = new ArrayList<>();
  private final int maxRestarts;

  private LocalWorkers(
      List<Process> processes, List<String> ids, List<Path> logs, int maxRestarts) {
    this.processes = processes;
    this.ids = ids;
    this.logs = logs;
    this.maxRestarts = maxRestarts;
  }

  /** The id of worker {@code k}: zero-padded, so string order is rank order. */
  public static String id(int k) {
    return String.format(Locale.ROOT, "worker-%03d", k);
  }

  /**
   * Starts {@code count} workers that join {@code coordinator}, train on {@code device} and average
   * gradients through {@code exchange}; worker {@code k} serves {@code /metrics} on {@code
   * metricsPorts[k]} (none when the list is empty); each may be restarted {@code maxRestarts}
   * times, and is given {@code tlsArguments} (its certificates, or {@code --insecure}).
   */
  public static LocalWorkers launch(
      HostPort coordinator,
      int count,
      Path logDir,
      String device,
      ExchangeKind exchange,
      List<Integer> metricsPorts,
      int maxRestarts,
      String mainClass,
      List<String> tlsArguments)
      throws IOException {
    Files.createDirectories(logDir);
    // Workers on one machine share its cores: libtorch's default (every core per process) would
    // oversubscribe them, so each worker gets its share of threads.
    int threads = Math.max(1, Runtime.getRuntime().availableProcessors() / count);
    List<Process> processes = new ArrayList<>();
    List<String> ids = new ArrayList<>();
    List<Path> logs = new ArrayList<>();
    LocalWorkers workers = new LocalWorkers(processes, ids, logs, maxRestarts);
    try {
      for (int k = 0; k < count; k++) {
        String id = id(k);
        Path log = logDir.resolve(id + ".log");
        List<String> arguments =
            new ArrayList<>(
                List.of(
                    "worker",
                    "--join",
                    coordinator.toString(),
                    "--id",
                    id,
                    "--host",
                    coordinator.host(),
                    "--device",
                    device,
                    "--exchange",
                    exchange.configName()));
        arguments.addAll(tlsArguments);
        if (!metricsPorts.isEmpty()) {
          arguments.addAll(List.of("--metrics-port", Integer.toString(metricsPorts.get(k))));
        }
        ProcessBuilder pb =
            ChildJvm.builder(
                    List.of(
                        "-Xss4m",
                        // The coordinator is this process: if it dies, a new train --resume
                        // starts new workers, so these must not linger trying to rejoin it.
                        "-Dscoreflow.cluster.reconnect-timeout=0s",
                        "-Dai.djl.pytorch.num_threads=" + threads,
                        "-Dai.djl.pytorch.num_interop_threads=" + threads),
                    mainClass,
                    arguments)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        processes.add(pb.start());
        ids.add(id);
        logs.add(log);
        workers.builders.add(pb);
        workers.restarts.add(0);
      }
      return workers;
    } catch (IOException | RuntimeException e) {
      workers.close();
      throw e;
    }
  }

  /**
   * Starts again, under its id, every worker that died (a non-zero exit, a signal) and still has
   * restarts left; returns a line for each.
   */
  public List<String> restartDead() throws IOException {
    List<String> restarted = new ArrayList<>();
    for (int k = 0; k < processes.size(); k++) {
      Process p = processes.get(k);
      if (p.isAlive() || p.exitValue() == 0 || restarts.get(k) >= maxRestarts) {
        continue;
      }
      restarts.set(k, restarts.get(k) + 1);
      processes.set(k, builders.get(k).start());
      restarted.add(
          String.format(
              Locale.ROOT,
              "%s exited with code %d (%s); started it again (%d of %d restarts)",
              ids.get(k),
              p.exitValue(),
              lastLine(logs.get(k)),
              restarts.get(k),
              maxRestarts));
    }
    return restarted;
  }

  /** How many of the worker processes are running now. */
  public int alive() {
    return (int) processes.stream().filter(Process::isAlive).count();
  }

  /**
   * The first worker that exited with a failure and has no restart left, described with the end of
   * its log.
   */
  public Optional<String> firstFailure() {
    for (int k = 0; k < processes.size(); k++) {
      Process p = processes.get(k);
      if (!p.isAlive() && p.exitValue() != 0 && restarts.get(k) >= maxRestarts) {
        return Optional.of(
            ids.get(k)
                + " exited with code "
                + p.exitValue()
                + " (log "
                + logs.get(k)
                + "): "
                + lastLine(logs.get(k)));
      }
    }
    return Optional.empty();
  }

  /** Waits until the workers {@code ids} exited, up to {@code timeout}; true if they all did. */
  public boolean awaitExit(List<String> ids, Duration timeout) throws InterruptedException {
    long until = System.nanoTime() + timeout.toNanos();
    for (int k = 0; k < processes.size(); k++) {
      if (!ids.contains(this.ids.get(k))) {
        continue;
      }
      Process p = processes.get(k);
      long left = until - System.nanoTime();
      if (left <= 0 || !p.waitFor(left, TimeUnit.NANOSECONDS)) {
        return false;
      }
    }
    return true;
  }

  /** Exit codes of the workers that ended (-1 for one still alive). */
  List<Integer> exitCodes() {
    return processes.stream().map(p -> p.isAlive() ? -1 : p.exitValue()).toList();
  }

  private static String lastLine(Path log) {
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      for (int i = lines.size() - 1; i >= 0; i--) {
        if (!lines.get(i).isBlank()) {
          return lines.get(i).strip();
        }
      }
      return "(empty log)";
    } catch (IOException e) {
      return "(log unreadable: " + e.getMessage() + ")";
    }
  }

  /** Ends every worker still alive: politely, then forcibly after 10 s. */
  @Override
  public void close() {
    for (Process p : processes) {
      if (p.isAlive()) {
        p.destroy();
      }
    }
    for (Process p : processes) {
      try {
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        p.destroyForcibly();
      }
    }
  }
}
