package io.scoreflow.cli.cluster;

import io.scoreflow.cli.output.Progress;
import io.scoreflow.coordinator.JobEvent;
import io.scoreflow.coordinator.JobHost;
import io.scoreflow.proto.cluster.RingMember;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Follows a distributed job from its coordinator's events: the ring, live progress (steps, mean
 * loss over ranks, samples/s, the compute/exchange/optimizer split, ETA), and the outcome. Also
 * watches for a dead worker process, so a crash is reported even before the cluster notices.
 */
public final class ClusterProgress {

  /** How the job ended: {@code message} is the user's one line. */
  record Outcome(boolean finished, long generation, long step, String message) {}

  private final PrintWriter err;
  private final long untilStep;
  private Progress progress;
  private double loss = Double.NaN;
  private double rate = Double.NaN;

  ClusterProgress(PrintWriter err, long untilStep) {
    this.err = err;
    this.untilStep = untilStep;
  }

  /**
   * Shows the job's events until it ends; {@code deadWorker} names a worker process that died for
   * good (or is empty), checked between events and shown once: the coordinator decides what its
   * loss means (a smaller ring, or the job fails at the regroup deadline), so nothing waits on it.
   * {@code tap} sees every event first.
   */
  Outcome follow(JobHost host, Supplier<Optional<String>> deadWorker, Consumer<JobEvent> tap)
      throws InterruptedException {
    String dead = null;
    while (true) {
      JobEvent e = host.poll(Duration.ofMillis(500));
      if (e != null) {
        tap.accept(e);
        Outcome end = show(e);
        if (end != null) {
          return end;
        }
      }
      Optional<String> d = deadWorker.get();
      if (d.isPresent() && !d.get().equals(dead)) {
        dead = d.get();
        err.printf(Locale.ROOT, "%n%s%n", dead);
        err.flush();
      }
    }
  }

  private Outcome show(JobEvent e) {
    if (e instanceof JobEvent.RingFormed r) {
      StringBuilder ring = new StringBuilder();
      for (RingMember m : r.ring()) {
        ring.append(
            String.format(
                Locale.ROOT,
                "%n  rank %d: %s (%s, exchange %s)",
                m.rank(),
                m.workerId(),
                m.device(),
                m.exchangeAddress()));
      }
      err.printf(
          Locale.ROOT,
          "job %s generation %d: ring of %d, steps %d..%d%s%n",
          r.job(),
          r.generation(),
          r.ring().size(),
          r.startStep(),
          r.untilStep(),
          ring);
      progress = new Progress(err, "train", untilStep);
    } else if (e instanceof JobEvent.StepProgress p) {
      loss = Double.isNaN(loss) ? p.meanLoss() : 0.95 * loss + 0.05 * p.meanLoss();
      rate = Double.isNaN(rate) ? p.samplesPerSecond() : 0.9 * rate + 0.1 * p.samplesPerSecond();
      if (progress != null) {
        progress.update(
            p.step() + 1,
            String.format(
                Locale.ROOT,
                "loss %.4f  %.0f samples/s  compute %.1f exchange %.1f optimizer %.1f ms",
                loss,
                rate,
                p.computeMs(),
                p.exchangeMs(),
                p.optimizerMs()));
      }
    } else if (e instanceof JobEvent.GenerationChanged g) {
      err.printf(Locale.ROOT, "%njob %s generation %d: %s%n", g.job(), g.generation(), g.why());
    } else if (e instanceof JobEvent.JobFinished f) {
      return new Outcome(true, f.generation(), f.step(), "finished");
    } else if (e instanceof JobEvent.JobFailed f) {
      return new Outcome(
          false,
          f.generation(),
          -1,
          "training failed (" + f.reason() + ", " + f.reason().meaning() + "): " + f.message());
    }
    err.flush();
    return null;
  }
}
