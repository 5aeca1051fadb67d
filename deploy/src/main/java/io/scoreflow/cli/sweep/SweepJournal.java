package io.scoreflow.cli.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.scoreflow.coordinator.JobJournal;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What one job of a sweep has done, read from its coordinator's journal ({@code events.jsonl}) over
 * every sweep invocation that ran it.
 *
 * @param state where the job stands
 * @param steps the steps agreed (after the last rollback)
 * @param finalLoss the mean loss of the last agreed step (NaN before any)
 * @param wallSeconds time spent training: from each ring's forming to its last event
 * @param rings how many rings (generations) trained it
 * @param failure the reason of the last failure, empty unless failed
 */
record SweepJournal(
    State state, long steps, double finalLoss, double wallSeconds, int rings, String failure) {

  enum State {
    NOT_STARTED,
    UNFINISHED,
    FAILED,
    CANCELLED,
    FINISHED
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  /** The journal of the job in {@code dir}, which trains until {@code untilStep}. */
  static SweepJournal read(Path dir, long untilStep) {
    Path file = dir.resolve(JobJournal.FILE);
    if (!Files.isRegularFile(file)) {
      return new SweepJournal(State.NOT_STARTED, 0, Double.NaN, 0, 0, "");
    }
    State state = State.UNFINISHED;
    long steps = 0;
    double loss = Double.NaN;
    double wall = 0;
    double ringStart = Double.NaN;
    double last = Double.NaN;
    int rings = 0;
    String failure = "";
    List<String> lines;
    try {
      lines = Files.readAllLines(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the journal " + file, e);
    }
    for (String line : lines) {
      JsonNode e;
      try {
        e = JSON.readTree(line);
      } catch (IOException torn) {
        continue; // the end of a line cut by a crash
      }
      double time = e.path("time").asDouble(Double.NaN);
      switch (e.path("event").asText()) {
        case "ring" -> {
          if (!Double.isNaN(ringStart)) {
            wall += last - ringStart;
          }
          ringStart = time;
          rings++;
          state = State.UNFINISHED;
          steps = e.path("start_step").asLong();
        }
        case "step" -> {
          steps = e.path("step").asLong() + 1;
          loss = e.path("loss").asDouble();
        }
        case "finish" -> {
          steps = e.path("step").asLong();
          state = steps >= untilStep ? State.FINISHED : State.UNFINISHED;
        }
        case "fail" -> {
          state = "CANCELLED".equals(e.path("reason").asText()) ? State.CANCELLED : State.FAILED;
          failure = e.path("reason").asText() + ": " + e.path("message").asText();
        }
        default -> {}
      }
      last = time;
    }
    if (!Double.isNaN(ringStart)) {
      wall += last - ringStart;
    }
    return new SweepJournal(state, steps, loss, wall, rings, failure);
  }
}
