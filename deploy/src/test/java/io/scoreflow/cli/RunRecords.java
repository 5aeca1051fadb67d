package io.scoreflow.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the tests read of a run as it goes (its event logs, its worker processes), and how they
 * start the launcher's commands as processes of their own.
 */
final class RunRecords {

  private static final ObjectMapper JSON = new ObjectMapper();

  private RunRecords() {}

  /**
   * Starts {@code scoreflow ARGS} in a JVM of its own, as a user on another terminal would (one
   * libtorch thread: several JVMs share two cores), its output appended to {@code log}.
   */
  static Process startCli(List<String> args, Path log) throws IOException {
    return io.scoreflow.worker.ChildJvm.builder(
            List.of(
                "-Xss4m",
                "-Dai.djl.pytorch.num_threads=1",
                "-Dai.djl.pytorch.num_interop_threads=1"),
            Main.class.getName(),
            args)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .start();
  }

  /**
   * The events of {@code kind} in a JSON-lines log ({@code events.jsonl}, {@code
   * events-rank-K.jsonl}), every event for a null kind; none when the file does not exist yet.
   */
  static List<JsonNode> events(Path file, String kind) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    if (!Files.exists(file)) {
      return out;
    }
    for (String line : Files.readAllLines(file)) {
      if (line.isBlank()) {
        continue;
      }
      JsonNode e = JSON.readTree(line);
      if (kind == null || e.get("event").asText().equals(kind)) {
        out.add(e);
      }
    }
    return out;
  }

  /** This JVM's child process running the worker {@code workerId} (train --workers N). */
  static ProcessHandle worker(String workerId) {
    return ProcessHandle.current()
        .children()
        .filter(p -> commandLine(p).contains("--id " + workerId))
        .findFirst()
        .orElseThrow(() -> new AssertionError(workerId + " is not running"));
  }

  /**
   * The command line of a process, from {@code /proc} (the JDK's {@code ProcessHandle.Info} has
   * none for command lines as long as a worker's).
   */
  private static String commandLine(ProcessHandle p) {
    try {
      return Files.readString(Path.of("/proc", Long.toString(p.pid()), "cmdline"))
          .replace('\0', ' ');
    } catch (IOException e) {
      return "";
    }
  }

  /**
   * The run's history from its journal: a {@code ring} line starting at step s discards every
   * journalled step >= s; each step must then appear exactly once. Returns step → loss.
   */
  static Map<Long, Double> history(List<JsonNode> journal) {
    TreeMap<Long, Double> history = new TreeMap<>();
    for (JsonNode e : journal) {
      switch (e.get("event").asText()) {
        case "ring" -> history.tailMap(e.get("start_step").asLong(), true).clear();
        case "step" -> {
          long step = e.get("step").asLong();
          assertFalse(
              history.containsKey(step),
              "step " + step + " counted twice in generation " + e.get("generation"));
          history.put(step, e.get("loss").asDouble());
        }
        default -> {}
      }
    }
    return history;
  }
}
