package io.scoreflow.coordinator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.scoreflow.proto.cluster.RingMember;
import io.scoreflow.train.EventLog;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The coordinator's record of a distributed run, {@code OUT/events.jsonl}: every ring it formed
 * (generation, members, the step it started from), every step all ranks agreed on (loss, checksum,
 * throughput), every regroup and why, and the outcome. Appended line by line, so a restarted
 * coordinator continues the same file.
 *
 * <p>How to read it: a {@code ring} line with {@code start_step = s} means the steps from {@code s}
 * on are trained (again) from the checkpoint of step {@code s}; earlier {@code step} lines with
 * {@code step >= s} belong to a discarded history. The run's history is the {@code step} lines left
 * after applying every such rollback, one per step. Steps trained while no coordinator was running
 * are in the ranks' {@code events-rank-K.jsonl} only.
 */
public final class JobJournal implements AutoCloseable {

  /** The journal's file name in the run directory. */
  public static final String FILE = "events.jsonl";

  private final EventLog log;

  public JobJournal(Path runDirectory) {
    this.log = new EventLog(runDirectory.resolve(FILE));
  }

  /**
   * The newest generation recorded in the journal of {@code runDirectory}, or 0 (no journal, or no
   * cluster ever ran there). Lines that do not parse (the end of a line cut by a crash) are
   * skipped.
   */
  public static long lastGeneration(Path runDirectory) {
    long[] newest = {0};
    forEachEvent(
        runDirectory,
        e -> {
          JsonNode generation = e.get("generation");
          if (generation != null && generation.canConvertToLong()) {
            newest[0] = Math.max(newest[0], generation.asLong());
          }
        });
    return newest[0];
  }

  /**
   * The step the run of {@code runDirectory} finished at, when its journal's last ring ended with
   * the job finishing (a later ring, or none finishing, leaves it empty). Torn lines are skipped.
   */
  public static java.util.OptionalLong finishedStep(Path runDirectory) {
    java.util.OptionalLong[] finished = {java.util.OptionalLong.empty()};
    forEachEvent(
        runDirectory,
        e -> {
          switch (e.path("event").asText()) {
            case "ring", "fail" -> finished[0] = java.util.OptionalLong.empty();
            case "finish" -> finished[0] = java.util.OptionalLong.of(e.path("step").asLong());
            default -> {}
          }
        });
    return finished[0];
  }

  /**
   * Every line of the journal of {@code runDirectory} that parses, in order (none without a
   * journal); a line cut by a crash is skipped, the lines before it still count.
   */
  private static void forEachEvent(
      Path runDirectory, java.util.function.Consumer<JsonNode> action) {
    Path file = runDirectory.resolve(FILE);
    if (!Files.isRegularFile(file)) {
      return;
    }
    ObjectMapper json = new ObjectMapper();
    try (Stream<String> lines = Files.lines(file)) {
      for (String line : (Iterable<String>) lines::iterator) {
        JsonNode e;
        try {
          e = json.readTree(line);
        } catch (IOException torn) {
          continue;
        }
        action.accept(e);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the journal " + file, e);
    }
  }

  /** Records {@code e}. */
  public void record(JobEvent e) {
    if (e instanceof JobEvent.JobQueued) {
      // Where the journal is, not a thing that happened to the run.
      return;
    }
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("job", e.job());
    f.put("generation", e.generation());
    String kind;
    if (e instanceof JobEvent.RingFormed r) {
      kind = "ring";
      f.put("start_step", r.startStep());
      f.put("until", r.untilStep());
      List<String> members = r.ring().stream().map(RingMember::workerId).toList();
      f.put("workers", members);
    } else if (e instanceof JobEvent.StepProgress p) {
      kind = "step";
      // The step index, as in the single-process log: step k is the (k+1)-th update.
      f.put("step", p.step());
      f.put("loss", p.meanLoss());
      f.put("samples_per_s", p.samplesPerSecond());
      f.put("compute_ms", p.computeMs());
      f.put("exchange_ms", p.exchangeMs());
      f.put("optimizer_ms", p.optimizerMs());
      f.put("crc32c", p.checksum());
    } else if (e instanceof JobEvent.GenerationChanged g) {
      kind = "regroup";
      f.put("why", g.why());
    } else if (e instanceof JobEvent.JobFinished d) {
      kind = "finish";
      f.put("step", d.step());
    } else if (e instanceof JobEvent.JobFailed x) {
      kind = "fail";
      f.put("reason", x.reason().name());
      f.put("message", x.message());
    } else {
      throw new IllegalArgumentException("unknown job event " + e);
    }
    log.write(kind, f);
  }

  @Override
  public void close() {
    log.close();
  }
}
