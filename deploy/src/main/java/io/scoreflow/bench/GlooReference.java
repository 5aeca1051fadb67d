package io.scoreflow.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The peer a PyTorch user would pick: {@code torch.distributed}'s all_reduce over the gloo backend
 * between the same number of processes on loopback ({@code gloo_worker.py}, run by a {@code
 * python3} that has {@code torch}, such as Debian's {@code python3-torch}). Only {@code bench
 * allreduce} uses it, as a reference measured in the same run; nothing else needs Python.
 */
final class GlooReference implements AutoCloseable {

  /** The interpreters tried, in order; {@code SCOREFLOW_PYTHON} first when set. */
  static List<String> candidates() {
    List<String> out = new ArrayList<>();
    String chosen = System.getenv("SCOREFLOW_PYTHON");
    if (chosen != null && !chosen.isBlank()) {
      out.add(chosen);
    }
    out.add("python3");
    // Debian's python3-torch installs for the system interpreter, which another python3 earlier
    // on the PATH (pyenv, a virtualenv) does not see.
    out.add("/usr/bin/python3");
    return out;
  }

  /** The first candidate that imports {@code torch.distributed} with gloo, if any. */
  static Optional<String> findPython() {
    for (String python : candidates()) {
      try {
        Process p =
            new ProcessBuilder(
                    python,
                    "-c",
                    "import torch.distributed as d, sys; sys.exit(0 if d.is_available()"
                        + " and d.is_gloo_available() else 3)")
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        if (p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0) {
          return Optional.of(python);
        }
        p.destroyForcibly();
      } catch (IOException e) {
        // Not installed under that name.
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return Optional.empty();
      }
    }
    return Optional.empty();
  }

  private final List<RingWorkerProcess> ranks;
  private final Path script;

  private GlooReference(List<RingWorkerProcess> ranks, Path script) {
    this.ranks = ranks;
    this.script = script;
  }

  /** Starts {@code world} gloo ranks with {@code python} and waits until they rendezvoused. */
  static GlooReference start(String python, int world) {
    Path script;
    try (InputStream in = GlooReference.class.getResourceAsStream("gloo_worker.py")) {
      if (in == null) {
        throw new IllegalStateException("gloo_worker.py is missing from the jar");
      }
      script = Files.createTempFile("scoreflow-gloo-", ".py");
      Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("could not write the gloo worker script", e);
    }
    int port;
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free port for the gloo rendezvous", e);
    }
    List<RingWorkerProcess> ranks = new ArrayList<>();
    GlooReference gloo = new GlooReference(ranks, script);
    try {
      for (int r = 0; r < world; r++) {
        ranks.add(
            RingWorkerProcess.start(
                "gloo" + r,
                new ProcessBuilder(
                    python,
                    script.toString(),
                    Integer.toString(r),
                    Integer.toString(world),
                    Integer.toString(port))));
      }
      for (RingWorkerProcess rank : ranks) {
        rank.expect("READY", 120, TimeUnit.SECONDS);
      }
      return gloo;
    } catch (RuntimeException e) {
      gloo.close();
      throw e;
    }
  }

  /** Sends {@code BENCH} to every rank (they answer as the ring workers do). */
  List<RingWorkerProcess> bench(int elements, int warmup, int repeats) {
    for (RingWorkerProcess rank : ranks) {
      rank.send("BENCH " + elements + " " + warmup + " " + repeats);
    }
    return ranks;
  }

  @Override
  public void close() {
    for (RingWorkerProcess rank : ranks) {
      rank.close();
    }
    try {
      Files.deleteIfExists(script);
    } catch (IOException e) {
      // A temporary file; leave it.
    }
  }
}
