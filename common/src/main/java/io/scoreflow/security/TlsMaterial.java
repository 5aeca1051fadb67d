package io.scoreflow.security;

import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.function.Predicate;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * What a node needs for mutual TLS: the job's CA certificate (whom to trust) and its own
 * certificate and key (who it is). Loaded once per process ({@link CertificateDirectory#load}) or
 * made in memory for a local run ({@link #issue}).
 */
public record TlsMaterial(X509Certificate ca, NodeCertificate self) {

  private static final char[] IN_MEMORY = new char[0];

  /** A fresh certificate for {@code identity} from {@code ca}, never written to disk. */
  public static TlsMaterial issue(JobCa ca, NodeIdentity identity) {
    return new TlsMaterial(ca.certificate(), ca.issue(identity, JobCa.DEFAULT_NODE_VALIDITY));
  }

  public NodeIdentity identity() {
    return self.identity();
  }

  /** Presents this node's certificate (and the CA's, so a peer sees the whole chain). */
  public KeyManager[] keyManagers() {
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry("node", self.key(), IN_MEMORY, new Certificate[] {self.certificate(), ca});
      KeyManagerFactory f = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      f.init(store, IN_MEMORY);
      return f.getKeyManagers();
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new IllegalStateException("could not set up this node's TLS key", e);
    }
  }

  /**
   * Trusts a peer whose certificate chains to the job's CA and names an identity {@code admitted}
   * accepts; {@code expected} says whom that is, for the refusal.
   */
  public JobTrustManager trustManager(Predicate<NodeIdentity> admitted, String expected) {
    return new JobTrustManager(pkix(), ca, admitted, expected);
  }

  /** Trusts any identity of the job's CA (a listener that decides per call, by role). */
  public JobTrustManager trustAnyNode() {
    return trustManager(id -> true, "a node of this job");
  }

  /** Trusts exactly {@code peer} (a client that knows whom it connects to). */
  public JobTrustManager trustOnly(NodeIdentity peer) {
    return trustManager(peer::equals, peer.toString());
  }

  /** A TLS 1.3 context presenting this node and trusting peers as {@code trust} decides. */
  public SSLContext sslContext(JobTrustManager trust) {
    try {
      SSLContext context = SSLContext.getInstance("TLSv1.3");
      context.init(keyManagers(), new TrustManager[] {trust}, new SecureRandom());
      return context;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JVM has no TLS 1.3", e);
    }
  }

  private X509TrustManager pkix() {
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setCertificateEntry("job-ca", ca);
      TrustManagerFactory f = TrustManagerFactory.getInstance("PKIX");
      f.init(store);
      for (TrustManager t : f.getTrustManagers()) {
        if (t instanceof X509TrustManager x) {
          return x;
        }
      }
      throw new IllegalStateException("no X.509 trust manager");
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new IllegalStateException("could not set up trust in the job's CA", e);
    }
  }
}
