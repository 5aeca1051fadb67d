package io.scoreflow.cli.cluster;

import io.scoreflow.InvalidInputException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * How a cluster command protects its channels: the job's certificates ({@code --tls-dir}, or {@code
 * SCOREFLOW_TLS_DIR}) or, only when asked, none ({@code --insecure}). The mixin of {@code
 * coordinator}, {@code worker} and {@code train}.
 */
public final class TlsOptions {

  @Option(
      names = "--tls-dir",
      paramLabel = "DIR",
      defaultValue = "${env:SCOREFLOW_TLS_DIR}",
      description =
          "The job's certificates (ca.crt, and this node's NAME.crt/NAME.key), as made by"
              + " 'scoreflow certs init' (default: $SCOREFLOW_TLS_DIR). train --workers N makes"
              + " its own for the run when not given.")
  Path dir;

  @Option(
      names = "--insecure",
      description =
          "No TLS and no identities: any process that reaches a port joins the job, reads its"
              + " checkpoints and can inject gradients. Only for a machine you alone use.")
  boolean insecure;

  /** The plan's certificates: a directory, none ({@code --insecure}), or null (make them). */
  ClusterJob.Certificates certificates() {
    if (insecure && dir != null) {
      throw new InvalidInputException("--insecure and --tls-dir " + dir + " contradict each other");
    }
    if (insecure) {
      return ClusterJob.Certificates.INSECURE;
    }
    return dir == null ? null : ClusterJob.Certificates.in(dir);
  }

  /** As {@link #certificates()}, requiring one or the other (a node of a cluster elsewhere). */
  public ClusterJob.Certificates required(String command) {
    ClusterJob.Certificates c = certificates();
    if (c == null) {
      throw new InvalidInputException(
          command
              + " needs the job's certificates: pass --tls-dir DIR (make them with: scoreflow certs"
              + " init --dir DIR --workers N) or set SCOREFLOW_TLS_DIR; or --insecure to run"
              + " without TLS");
    }
    return c;
  }

  /**
   * The certificates of a local run of {@code workers} processes: the user's directory, none
   * ({@code --insecure}), or by default a CA of the run's own ({@link
   * ClusterJob.Certificates#ephemeral}).
   */
  public ClusterJob.Certificates local(String job, int workers) throws java.io.IOException {
    ClusterJob.Certificates given = certificates();
    return given != null ? given : ClusterJob.Certificates.ephemeral(job, workers);
  }
}
