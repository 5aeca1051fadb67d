package io.scoreflow.coordinator;

import com.typesafe.config.Config;
import io.scoreflow.InvalidInputException;
import io.scoreflow.run.HostPort;
import io.scoreflow.run.RunDirectory;
import io.scoreflow.security.TransportSecurity;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.BindException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * The coordinator's side of one distributed job, assembled here as {@code WorkerProcess} assembles
 * a worker: the cluster node running the {@link Coordinator}, the checkpoint service over the run's
 * checkpoints, the evaluator (when {@code scoreflow.eval.every > 0}), {@code /metrics}, and the job
 * journal. They start together and close together; the CLI only parses flags, starts this and
 * follows its events.
 *
 * <p>A socket that cannot be bound (an address not of this machine, a port in use) is bad input,
 * said in one line, and the journal is opened only once every socket is bound, so a refused start
 * leaves nothing in the run directory.
 */
public final class JobHost implements AutoCloseable {

  /**
   * What to host.
   *
   * @param config the run's resolved config
   * @param run the run directory (on a file system every node shares)
   * @param untilStep train until this many steps are done
   * @param workers how many workers the ring wants
   * @param minWorkers the fewest it trains with (elastic)
   * @param host the address every listener binds and workers reach
   * @param port the cluster port ({@code 0}: any free port)
   * @param metricsPort {@code /metrics} ({@code null}: none; {@code 0}: a free port)
   * @param security the coordinator's certificate and the job's CA, or plaintext ({@code
   *     --insecure})
   */
  public record Options(
      Config config,
      RunDirectory run,
      long untilStep,
      int workers,
      int minWorkers,
      String host,
      int port,
      Integer metricsPort,
      TransportSecurity security) {}

  private final CoordinatorServices services;
  private final CoordinatorNode node;
  private final JobJournal journal;

  private JobHost(CoordinatorServices services, CoordinatorNode node, JobJournal journal) {
    this.services = services;
    this.node = node;
    this.journal = journal;
  }

  /** Starts everything; {@code log} hears where the services listen. */
  public static JobHost start(Options o, PrintWriter log) throws IOException {
    // Workers of an earlier coordinator of this run fence by generation: never reuse one.
    JobSpec spec =
        JobSpec.of(o.config(), o.run().path(), o.untilStep(), o.workers(), o.minWorkers())
            .startingAtGeneration(JobJournal.lastGeneration(o.run().path()) + 1);
    CoordinatorServices services =
        listening(
            o,
            () ->
                CoordinatorServices.start(
                    o.config(), o.run(), o.host(), o.metricsPort(), o.security(), log));
    CoordinatorNode node = null;
    try {
      node =
          listening(
              o,
              () ->
                  CoordinatorNode.start(
                      spec,
                      CheckpointCatalog.of(o.run()),
                      o.host(),
                      o.port(),
                      services.actors(),
                      o.security()));
      return new JobHost(services, node, new JobJournal(o.run().path()));
    } catch (IOException | RuntimeException e) {
      if (node != null) {
        node.close();
      }
      services.close();
      throw e;
    }
  }

  /** Something that opens a listening socket. */
  @FunctionalInterface
  private interface Listener<T> {
    T open() throws IOException;
  }

  private static <T> T listening(Options o, Listener<T> listener) throws IOException {
    try {
      return listener.open();
    } catch (IOException | RuntimeException e) {
      for (Throwable c = e; c != null; c = c.getCause()) {
        String m = String.valueOf(c.getMessage());
        if (c instanceof BindException || m.contains("bind(..) failed")) {
          throw new InvalidInputException(
              String.format(
                  Locale.ROOT,
                  "cannot listen on %s (port %d, or a free port for a service): %s; --host must"
                      + " be an address of this machine and the port free",
                  o.host(),
                  o.port(),
                  m));
        }
      }
      throw e;
    }
  }

  /** Where workers join: {@code scoreflow worker --join} this. */
  public HostPort address() {
    return node.address();
  }

  /** The node's {@code /metrics} port, or -1 when it serves none. */
  public int metricsPort() {
    return services.metricsPort();
  }

  /**
   * The metrics ports of {@code n} local workers: {@code P+1+k} after the coordinator's {@code P}
   * when a port was given, free ports when it was 0, none (empty) without metrics.
   */
  public List<Integer> workerMetricsPorts(int n, Integer requested) throws IOException {
    return services.workerMetricsPorts(n, requested);
  }

  /** The next event of the job, or null if none came within {@code timeout}. */
  public JobEvent poll(Duration timeout) throws InterruptedException {
    return node.poll(timeout);
  }

  /** Records {@code e} in the journal and the metrics; the follower calls it for every event. */
  public void record(JobEvent e) {
    journal.record(e);
    services.onEvent(e);
  }

  @Override
  public void close() {
    // Resources close in reverse: the journal first, then the node, then its services.
    try (services;
        node;
        journal) {
      // nothing else to do
    }
  }
}
