package io.scoreflow.coordinator;

import io.scoreflow.proto.cluster.CoordinatorProtocol;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Collects the ranks' reports of each step of one generation: once every rank reported a step, it
 * checks that their parameter checksums agree and turns the reports into one {@link
 * JobEvent.StepProgress}. Ranks run in lock-step (the all-reduce synchronises them), so only a step
 * or two is ever open.
 */
final class StepAggregator {

  /** What one more report completed. */
  sealed interface Outcome {}

  /** The step still waits for other ranks. */
  record Pending() implements Outcome {}

  /** Every rank reported the step and their parameters agree. */
  record Agreed(JobEvent.StepProgress progress) implements Outcome {}

  /** Every rank reported the step and their parameters differ. */
  record Diverged(long step, String message) implements Outcome {}

  /** A report that cannot belong to this generation's ring. */
  record Rejected(String message) implements Outcome {}

  private final String job;
  private final long generation;
  private final int world;
  private final Map<Long, CoordinatorProtocol.StepReport[]> open = new HashMap<>();
  private long lastAgreed;

  /** Aggregates the ranks' reports of a ring of {@code world} whose first step is {@code first}. */
  StepAggregator(String job, long generation, int world, long first) {
    this.job = job;
    this.generation = generation;
    this.world = world;
    this.lastAgreed = first - 1;
  }

  /** The last step every rank completed with agreeing parameters ({@code first - 1} at first). */
  long lastAgreed() {
    return lastAgreed;
  }

  Outcome add(CoordinatorProtocol.StepReport r) {
    if (r.rank() < 0 || r.rank() >= world) {
      return new Rejected("rank " + r.rank() + " is outside the ring of " + world);
    }
    CoordinatorProtocol.StepReport[] reports =
        open.computeIfAbsent(r.step(), s -> new CoordinatorProtocol.StepReport[world]);
    if (reports[r.rank()] != null) {
      return new Rejected("rank " + r.rank() + " reported step " + r.step() + " twice");
    }
    reports[r.rank()] = r;
    for (CoordinatorProtocol.StepReport each : reports) {
      if (each == null) {
        return new Pending();
      }
    }
    open.remove(r.step());
    // Under local SGD only synchronising steps carry a checksum, on every rank alike: an empty one
    // beside a real one is a disagreement too.
    for (CoordinatorProtocol.StepReport each : reports) {
      if (!each.checksum().equals(reports[0].checksum())) {
        return new Diverged(r.step(), describe(reports));
      }
    }
    lastAgreed = Math.max(lastAgreed, r.step());
    return new Agreed(progress(r.step(), reports));
  }

  private JobEvent.StepProgress progress(long step, CoordinatorProtocol.StepReport[] reports) {
    double loss = 0;
    double compute = 0;
    double exchange = 0;
    double optimizer = 0;
    long samples = 0;
    long slowest = 1;
    for (CoordinatorProtocol.StepReport r : reports) {
      loss += r.loss();
      compute += r.computeNanos();
      exchange += r.exchangeNanos();
      optimizer += r.optimizerNanos();
      samples += r.samples();
      slowest = Math.max(slowest, r.computeNanos() + r.exchangeNanos() + r.optimizerNanos());
    }
    int n = reports.length;
    return new JobEvent.StepProgress(
        job,
        generation,
        step,
        loss / n,
        samples / (slowest / 1e9),
        compute / n / 1e6,
        exchange / n / 1e6,
        optimizer / n / 1e6,
        reports[0].checksum());
  }

  private String describe(CoordinatorProtocol.StepReport[] reports) {
    StringBuilder b =
        new StringBuilder(
            String.format(
                Locale.ROOT,
                "job %s generation %d step %d: parameter checksums differ:",
                job,
                generation,
                reports[0].step()));
    for (CoordinatorProtocol.StepReport r : reports) {
      b.append(
          String.format(
              Locale.ROOT,
              " rank %d crc32c %s sum %.9g;",
              r.rank(),
              r.checksum(),
              r.parameterSum()));
    }
    return b.substring(0, b.length() - 1);
  }
}
