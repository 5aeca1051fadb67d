package io.scoreflow.cli.output;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * Progress of a long job on stderr: one self-updating line with a bar, rate and ETA on a terminal;
 * on anything else (a log file, CI), a plain line every tenth of the work and at the end.
 */
public final class Progress {

  private final PrintWriter err;
  private final String label;
  private final long total;
  private final boolean terminal;
  private final long startNanos = System.nanoTime();
  private long lastDrawNanos;
  private long lastLoggedTenth = -1;

  public Progress(PrintWriter err, String label, long total) {
    this(err, label, total, System.console() != null);
  }

  public Progress(PrintWriter err, String label, long total, boolean terminal) {
    this.err = err;
    this.label = label;
    this.total = Math.max(1, total);
    this.terminal = terminal;
  }

  /** Reports {@code done} units out of the total, with a short status such as "loss 0.123". */
  public void update(long done, String status) {
    long now = System.nanoTime();
    double elapsed = (now - startNanos) / 1e9;
    double fraction = Math.min(1.0, (double) done / total);
    double eta = done == 0 ? Double.NaN : elapsed * (total - done) / done;
    if (terminal) {
      if (now - lastDrawNanos < 100_000_000L && done < total) {
        return;
      }
      lastDrawNanos = now;
      int width = 30;
      int filled = (int) Math.round(fraction * width);
      String bar = "#".repeat(filled) + "-".repeat(width - filled);
      err.printf(
          Locale.ROOT,
          "\r%s [%s] %d/%d %s  %s elapsed, ETA %s   ",
          label,
          bar,
          done,
          total,
          status,
          duration(elapsed),
          duration(eta));
      if (done >= total) {
        err.println();
      }
      err.flush();
      return;
    }
    long tenth = (long) Math.floor(fraction * 10);
    if (tenth != lastLoggedTenth || done >= total) {
      if (tenth == lastLoggedTenth && done < total) {
        return;
      }
      lastLoggedTenth = tenth;
      err.printf(
          Locale.ROOT,
          "%s %d/%d (%.0f%%) %s, %s elapsed, ETA %s%n",
          label,
          done,
          total,
          100 * fraction,
          status,
          duration(elapsed),
          duration(eta));
      err.flush();
    }
  }

  public static String duration(double seconds) {
    if (Double.isNaN(seconds) || Double.isInfinite(seconds)) {
      return "?";
    }
    long s = Math.round(seconds);
    if (s < 60) {
      return s + "s";
    }
    if (s < 3600) {
      return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
    return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
  }
}
