package io.scoreflow.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The run's event log, {@code events.jsonl}: one JSON object per line ({@code event}: {@code
 * start}, {@code resume}, {@code step}, {@code checkpoint}, {@code finish}), appended and flushed
 * line by line, so a crash loses at most the line being written and a resumed run continues the
 * same file. The loss curve of a run, including across crashes, is read from here.
 */
public final class EventLog implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();
  private final BufferedWriter out;

  public EventLog(Path file) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      this.out =
          Files.newBufferedWriter(
              file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open event log " + file, e);
    }
  }

  /** Appends one event with the given fields (in order) and a wall-clock time. */
  public synchronized void write(String event, Map<String, Object> fields) {
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("event", event);
    line.put("time", System.currentTimeMillis() / 1000.0);
    line.putAll(fields);
    try {
      out.write(JSON.writeValueAsString(line));
      out.newLine();
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot append to the event log", e);
    }
  }

  @Override
  public synchronized void close() {
    try {
      out.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
