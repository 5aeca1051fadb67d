package io.scoreflow.cli.sweep;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a sweep shows while its jobs run, wherever their pool is: a line for every ring, regroup and
 * outcome, and every few seconds one line for the whole sweep. It also keeps each job's status,
 * which the sweep's metrics count.
 */
final class SweepProgress {

  private final SweepSpec spec;
  private final PrintWriter err;
  private final java.util.function.Consumer<String> onOver;
  private final Map<String, String> status = new LinkedHashMap<>();
  private int open;
  private int failed;
  private long lastShown;

  /** The progress of {@code jobs}; {@code onOver} hears of each job once it is over. */
  SweepProgress(
      SweepSpec spec,
      List<SweepSpec.Job> jobs,
      PrintWriter err,
      java.util.function.Consumer<String> onOver) {
    this.spec = spec;
    this.err = err;
    this.onOver = onOver;
    for (SweepSpec.Job j : jobs) {
      status.put(j.name(), "queued");
    }
    this.open = jobs.size();
  }

  void started(String job, int ringSize, long startStep, long generation) {
    status.put(job, "step " + startStep + "/" + spec.steps());
    say("%s: ring of %d from step %d (generation %d)", job, ringSize, startStep, generation);
  }

  void stepped(String job, long step, double loss) {
    status.put(
        job, String.format(Locale.ROOT, "step %d/%d loss %.4f", step + 1, spec.steps(), loss));
  }

  void regrouped(String job, String why) {
    say("%s: regroup: %s", job, why);
  }

  void finished(String job, long step) {
    if (over(job, "finished")) {
      say("%s finished at step %d", job, step);
      onOver.accept(job);
    }
  }

  void failed(String job, String reason, String message) {
    if (over(job, "failed")) {
      failed++;
      say("%s failed (%s): %s", job, reason, message);
      onOver.accept(job);
    }
  }

  void say(String format, Object... args) {
    err.printf(
        Locale.ROOT, "sweep %s: %s%n", spec.name(), String.format(Locale.ROOT, format, args));
    err.flush();
  }

  /** The line for the whole sweep, at most every five seconds. */
  void tick() {
    if (System.nanoTime() - lastShown > 5_000_000_000L) {
      lastShown = System.nanoTime();
      err.println(line());
      err.flush();
    }
  }

  private boolean over(String job, String state) {
    String before = status.put(job, state);
    boolean first = before != null && !before.equals("finished") && !before.equals("failed");
    if (first) {
      open--;
    }
    return first;
  }

  /** Jobs of this invocation that are neither finished nor failed. */
  int open() {
    return open;
  }

  int failed() {
    return failed;
  }

  /** Each job's status: queued, finished, failed, or its step. */
  Map<String, String> status() {
    return status;
  }

  private String line() {
    int done = 0;
    int queued = 0;
    List<String> running = new ArrayList<>();
    for (Map.Entry<String, String> e : status.entrySet()) {
      switch (e.getValue()) {
        case "finished", "failed" -> done++;
        case "queued" -> queued++;
        default -> running.add(e.getKey() + " " + e.getValue());
      }
    }
    return String.format(
        Locale.ROOT,
        "sweep %s: %d/%d of this run's jobs over, %d queued; running: %s",
        spec.name(),
        done,
        status.size(),
        queued,
        running.isEmpty() ? "none" : String.join(", ", running));
  }
}
