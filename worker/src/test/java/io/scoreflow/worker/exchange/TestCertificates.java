package io.scoreflow.worker.exchange;

import io.scoreflow.security.JobCa;
import io.scoreflow.security.NodeIdentity;
import io.scoreflow.security.TlsMaterial;
import io.scoreflow.security.TransportSecurity;
import java.time.Duration;

/** A job CA for the tests of one JVM, and the TLS of any worker id from it or from a stranger's. */
public final class TestCertificates {

  /** The job's CA. */
  public static final JobCa JOB = JobCa.create("test-job", Duration.ofDays(1));

  /** Another CA: its certificates name real worker ids but belong to no job of ours. */
  public static final JobCa STRANGER = JobCa.create("someone-else", Duration.ofDays(1));

  private TestCertificates() {}

  public static TlsMaterial worker(String id) {
    return TlsMaterial.issue(JOB, NodeIdentity.worker(id));
  }

  public static TransportSecurity tls(String workerId) {
    return TransportSecurity.mutualTls(worker(workerId));
  }
}
