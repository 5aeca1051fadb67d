package io.scoreflow.cli.sweep;

import io.scoreflow.cli.cluster.TlsOptions;
import io.scoreflow.coordinator.CoordinatorNode;
import io.scoreflow.coordinator.JobEvent;
import io.scoreflow.coordinator.PoolJournals;
import io.scoreflow.security.NodeIdentity;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code scoreflow pool}: a worker pool that stays up, for sweeps submitted from elsewhere ({@code
 * sweep SPEC --coordinator HOST:PORT}). Workers join it as they join a coordinator; it writes every
 * job's journal into the job's run directory.
 */
@Command(
    name = "pool",
    mixinStandardHelpOptions = true,
    description = {
      "Runs a worker pool that stays up: workers join it with 'scoreflow worker --join HOST:PORT',"
          + " sweeps submit jobs to it with 'scoreflow sweep SPEC --coordinator HOST:PORT' and"
          + " follow them; each job gets its own coordinator, ring, checkpoints and journal (in"
          + " its run directory, on a file system the pool, its workers and the sweeps share).",
      "Stop it with Ctrl-C (or SIGTERM): its running jobs stop with it (their checkpoints stay;"
          + " the sweep's command, run again against a new pool, continues them), and its workers"
          + " wait for a pool at the address for scoreflow.cluster.reconnect-timeout."
    })
public final class PoolCommand implements Callable<Integer> {

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--name",
      paramLabel = "NAME",
      description = "The pool's name, in logs and metrics (default pool).")
  String name = "pool";

  @Option(names = "--port", paramLabel = "P", description = "Cluster port (default 2552).")
  int port = 2552;

  @Option(
      names = "--host",
      paramLabel = "HOST",
      description = "Address workers and sweeps reach this node at (default 127.0.0.1).")
  String host = "127.0.0.1";

  @Option(
      names = "--metrics-port",
      paramLabel = "PORT",
      description =
          "Serve the pool's metrics (its queue as scoreflow_sweep_jobs{run=NAME}, every job's"
              + " ring) on http://HOST:PORT/metrics (0: a free port).")
  Integer metricsPort;

  @Mixin TlsOptions tls;

  @Override
  public Integer call() throws Exception {
    PrintWriter err = spec.commandLine().getErr();
    io.scoreflow.security.TransportSecurity security =
        tls.required("pool").load(NodeIdentity.coordinator(), err);
    try (PoolJournals journals = new PoolJournals();
        PoolMetrics metrics = PoolMetrics.start(name, host, metricsPort);
        CoordinatorNode node = CoordinatorNode.startPool(name, host, port, security)) {
      err.printf(
          Locale.ROOT,
          "pool %s: at %s (%s); workers join with: scoreflow worker --join %s; sweeps submit with:"
              + " scoreflow sweep SPEC --coordinator %s%s%n",
          name,
          node.address(),
          security.describe(),
          node.address(),
          node.address(),
          metrics.port() < 0 ? "" : "; metrics http://" + host + ":" + metrics.port() + "/metrics");
      err.flush();
      Map<String, String> status = new LinkedHashMap<>();
      while (true) {
        JobEvent e = node.poll(Duration.ofSeconds(1));
        if (e == null) {
          continue;
        }
        if (e.job().equals(name) && e instanceof JobEvent.JobFailed f) {
          // The node itself stopped (Ctrl-C, or its actor failed).
          err.printf(Locale.ROOT, "pool %s: %s%n", name, f.message());
          break;
        }
        journals.record(e);
        track(e, status, metrics);
        metrics.onStatus(status, -1);
      }
    }
    return 0;
  }

  private static void track(JobEvent e, Map<String, String> status, PoolMetrics metrics) {
    if (e instanceof JobEvent.JobQueued) {
      status.put(e.job(), "queued");
    } else if (e instanceof JobEvent.RingFormed r) {
      status.put(e.job(), "running");
      metrics.started(e.job(), r.ring().size(), r.generation());
    } else if (e instanceof JobEvent.GenerationChanged g) {
      metrics.regrouped(e.job(), g.generation());
    } else if (e instanceof JobEvent.JobFinished) {
      status.put(e.job(), "finished");
      metrics.ended(e.job());
    } else if (e instanceof JobEvent.JobFailed) {
      status.put(e.job(), "failed");
      metrics.ended(e.job());
    }
  }
}
