package io.scoreflow.coordinator;

import java.util.HashMap;
import java.util.Map;

/**
 * The journals of a pool's jobs, each in its job's run directory ({@link JobJournal}): opened when
 * the pool queues the job ({@link JobEvent.JobQueued}), closed when the job is over. What the
 * process that runs a pool feeds its events to, be it a sweep's own pool or {@code scoreflow pool}.
 */
public final class PoolJournals implements AutoCloseable {

  private final Map<String, JobJournal> open = new HashMap<>();

  public void record(JobEvent e) {
    if (e instanceof JobEvent.JobQueued q) {
      open.computeIfAbsent(q.job(), job -> new JobJournal(q.runDirectory()));
      return;
    }
    JobJournal journal = open.get(e.job());
    if (journal == null) {
      return;
    }
    journal.record(e);
    if (e instanceof JobEvent.JobFinished || e instanceof JobEvent.JobFailed) {
      journal.close();
      open.remove(e.job());
    }
  }

  @Override
  public void close() {
    open.values().forEach(JobJournal::close);
    open.clear();
  }
}
