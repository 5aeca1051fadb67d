package io.scoreflow.cli.sweep;

import io.scoreflow.InvalidInputException;
import io.scoreflow.proto.cluster.ClusterNodes;
import io.scoreflow.proto.cluster.PoolProtocol;
import io.scoreflow.run.HostPort;
import io.scoreflow.run.RunDirectory;
import io.scoreflow.security.ArteryTls;
import io.scoreflow.security.NodeProof;
import io.scoreflow.security.TransportSecurity;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * A sweep whose jobs run on a pool that is already running ({@code scoreflow pool}, with workers of
 * its own): {@code sweep SPEC --coordinator HOST:PORT}. Its unfinished jobs are submitted (a job
 * the pool already holds is followed, not submitted twice) and followed until each is over; the
 * journals are the pool's to write, in the run directories on the file system the pool, its workers
 * and the sweep share. The sweep itself is not a member of the cluster, and its end does not end
 * the jobs: the same command again follows them.
 */
final class SweepRemote {

  /** How long the pool has to answer a request; also how often the sweep checks it is there. */
  static final Duration ANSWER = Duration.ofSeconds(30);

  private SweepRemote() {}

  /**
   * Runs {@code spec}'s unfinished jobs into {@code out} on the pool at {@code pool}, this
   * process's security being {@code security} (the coordinator's certificate: the CA's operator);
   * returns how many failed.
   */
  static int run(
      SweepSpec spec,
      Path out,
      HostPort pool,
      TransportSecurity security,
      PoolMetrics metrics,
      SweepResults results,
      PrintWriter err)
      throws IOException, InterruptedException {
    BlockingQueue<PoolProtocol.Update> updates = new LinkedBlockingQueue<>();
    // Reached by the pool at the address it can answer: the host the pool is on is reachable,
    // so this process listens on the local side of that route (loopback for a local pool).
    String self = localAddressTowards(pool);
    java.util.concurrent.CompletableFuture<ActorRef<PoolProtocol.Update>> spawned =
        new java.util.concurrent.CompletableFuture<>();
    Behavior<Void> guardian =
        Behaviors.setup(
            ctx -> {
              spawned.complete(ctx.spawn(queueing(updates), "follower"));
              return Behaviors.empty();
            });
    ActorSystem<Void> system =
        ActorSystem.create(
            guardian,
            ClusterNodes.SYSTEM_NAME,
            ArteryTls.systemSetup(ClusterNodes.node(self, 0, null, "sweep"), security));
    try {
      ActorRef<PoolProtocol.Update> follower = spawned.orTimeout(60, TimeUnit.SECONDS).join();
      ActorRef<PoolProtocol.Command> target =
          ActorRefResolver.get(system).resolveActorRef(PoolProtocol.path(pool.host(), pool.port()));
      // First what the pool holds: a job it trains now is followed, and its run directory is not
      // checked here while the pool's workers write it.
      target.tell(new PoolProtocol.Status(follower));
      PoolProtocol.PoolState state = null;
      long deadline = System.nanoTime() + ANSWER.toNanos();
      while (state == null) {
        PoolProtocol.Update u = updates.poll(500, TimeUnit.MILLISECONDS);
        if (u instanceof PoolProtocol.PoolState s) {
          state = s;
        } else if (System.nanoTime() > deadline) {
          throw new IOException(
              String.format(
                  Locale.ROOT,
                  "no pool answered at %s within %d s (is 'scoreflow pool' running there, with the"
                      + " same CA as --tls-dir?)",
                  pool,
                  ANSWER.toSeconds()));
        }
      }
      Set<String> held = new HashSet<>(state.queued());
      held.addAll(state.running());
      List<SweepSpec.Job> pending = SweepRun.pending(spec, out, err, held);
      if (pending.isEmpty()) {
        return 0;
      }
      SweepProgress progress = new SweepProgress(spec, pending, err, results::jobOver);
      err.printf(
          Locale.ROOT,
          "sweep %s: %d jobs to run (%d finished earlier) on pool %s at %s (%d idle of %d"
              + " workers), %d workers per job, into %s%n",
          spec.name(),
          pending.size(),
          spec.jobs().size() - pending.size(),
          state.pool(),
          pool,
          state.idleWorkers(),
          state.knownWorkers(),
          spec.workersPerJob(),
          out);
      Set<String> unanswered = new HashSet<>();
      for (SweepSpec.Job j : pending) {
        target.tell(submit(spec, j, out, security, follower));
        unanswered.add(j.name());
      }
      long lastHeard = System.nanoTime();
      long lastAsked = 0;
      boolean asked = false;
      while (progress.open() > 0) {
        PoolProtocol.Update u = updates.poll(500, TimeUnit.MILLISECONDS);
        if (u != null) {
          lastHeard = System.nanoTime();
          asked = false;
          if (u instanceof PoolProtocol.Refused r && unanswered.contains(r.job())) {
            throw new InvalidInputException(
                "the pool at " + pool + " refused job " + r.job() + ": " + r.reason());
          }
          show(u, progress, unanswered, spec, out);
          count(u, metrics);
        }
        for (String job : SweepRun.cancelRequests(out, progress.status().keySet())) {
          progress.say("cancelling %s", job);
          String reason = "sweep cancel";
          NodeProof proof = sign(security, PoolProtocol.CancelJob.statement(job, reason));
          target.tell(
              new PoolProtocol.CancelJob(
                  job, reason, proof.certificate(), proof.signature(), follower));
        }
        // Silence is normal (a job can wait in the queue for hours); a pool that does not answer
        // is not: ask it where things stand now and then, and give up when it stays silent.
        if (!asked && System.nanoTime() - lastHeard > ANSWER.toNanos() / 3) {
          target.tell(new PoolProtocol.Status(follower));
          asked = true;
          lastAsked = System.nanoTime();
        }
        if (asked && System.nanoTime() - lastAsked > ANSWER.toNanos()) {
          throw new IOException(
              String.format(
                  Locale.ROOT,
                  "the pool at %s stopped answering (%d s). If it still runs, the jobs it took go"
                      + " on there: run the same command again to follow them. If it stopped, its"
                      + " running jobs stopped with it: start it again at the same address (its"
                      + " workers rejoin by themselves) and run the same command; every unfinished"
                      + " job continues from its newest checkpoint",
                  pool,
                  ANSWER.toSeconds()));
        }
        metrics.onStatus(progress.status(), -1);
        progress.tick();
      }
      return progress.failed();
    } finally {
      system.terminate();
      try {
        system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
        // Terminating is best effort at exit.
      }
    }
  }

  private static PoolProtocol.SubmitJob submit(
      SweepSpec spec,
      SweepSpec.Job j,
      Path out,
      TransportSecurity security,
      ActorRef<PoolProtocol.Update> follower) {
    String config = RunDirectory.render(j.config());
    String dir = out.resolve(j.name()).toAbsolutePath().normalize().toString();
    NodeProof proof =
        sign(
            security,
            PoolProtocol.SubmitJob.statement(
                j.name(), config, dir, spec.steps(), spec.workersPerJob(), j.priority()));
    return new PoolProtocol.SubmitJob(
        j.name(),
        config,
        dir,
        spec.steps(),
        spec.workersPerJob(),
        j.priority(),
        proof.certificate(),
        proof.signature(),
        follower);
  }

  private static NodeProof sign(TransportSecurity security, String statement) {
    return security.material().map(m -> NodeProof.sign(m, statement)).orElse(NodeProof.none());
  }

  /** The jobs' rings on the sweep's own metrics, from the pool's updates. */
  private static void count(PoolProtocol.Update u, PoolMetrics metrics) {
    if (u instanceof PoolProtocol.Started s) {
      metrics.started(s.job(), s.ringSize(), s.generation());
    } else if (u instanceof PoolProtocol.Finished f) {
      metrics.ended(f.job());
    } else if (u instanceof PoolProtocol.Failed f) {
      metrics.ended(f.job());
    }
  }

  private static Behavior<PoolProtocol.Update> queueing(
      BlockingQueue<PoolProtocol.Update> updates) {
    return Behaviors.receive(PoolProtocol.Update.class)
        .onAnyMessage(
            u -> {
              updates.add(u);
              return Behaviors.same();
            })
        .build();
  }

  private static void show(
      PoolProtocol.Update u,
      SweepProgress progress,
      Set<String> unanswered,
      SweepSpec spec,
      Path out) {
    if (u instanceof PoolProtocol.Accepted a) {
      if (unanswered.remove(a.job())) {
        progress.say(
            "%s %s", a.job(), a.following() ? "is already in the pool; following it" : "queued");
      }
    } else if (u instanceof PoolProtocol.Refused r) {
      progress.say("%s: the pool refused: %s", r.job(), r.reason());
    } else if (u instanceof PoolProtocol.Started s) {
      progress.started(s.job(), s.ringSize(), s.startStep(), s.generation());
    } else if (u instanceof PoolProtocol.Stepped s) {
      progress.stepped(s.job(), s.step(), s.loss());
    } else if (u instanceof PoolProtocol.Regrouped r) {
      progress.regrouped(r.job(), r.why());
    } else if (u instanceof PoolProtocol.Finished f) {
      progress.finished(f.job(), f.step());
    } else if (u instanceof PoolProtocol.Failed f) {
      progress.failed(f.job(), f.reason(), f.message());
    } else if (u instanceof PoolProtocol.PoolState state) {
      // A job of ours that the pool no longer holds, and whose end was not heard (the update
      // was lost): its journal, which the pool wrote, says how it ended.
      for (String job : List.copyOf(progress.status().keySet())) {
        String now = progress.status().get(job);
        boolean over = now.equals("finished") || now.equals("failed");
        if (!over
            && !unanswered.contains(job)
            && !state.queued().contains(job)
            && !state.running().contains(job)) {
          SweepJournal journal = SweepJournal.read(out.resolve(job), spec.steps());
          if (journal.state() == SweepJournal.State.FINISHED) {
            progress.finished(job, journal.steps());
          } else {
            progress.failed(
                job,
                journal.state().name(),
                "the pool no longer holds it; its journal ends: " + journal.failure());
          }
        }
      }
    }
  }

  /** The local address from which {@code pool} is reached. */
  private static String localAddressTowards(HostPort pool) throws IOException {
    try (java.net.DatagramSocket s = new java.net.DatagramSocket()) {
      s.connect(java.net.InetAddress.getByName(pool.host()), pool.port());
      return s.getLocalAddress().getHostAddress();
    }
  }
}
