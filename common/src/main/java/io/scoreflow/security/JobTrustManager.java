package io.scoreflow.security;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.function.Predicate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trust in a job's nodes: a peer's chain must lead to the job's CA (PKIX: signature, validity, key
 * usage), and its leaf certificate must name a {@link NodeIdentity} this side admits. Host names
 * are not checked: nodes move between machines and addresses, the identity is what counts, and
 * every caller knows which identity it expects. Every refusal is logged with the peer's address, so
 * a refused handshake is visible on the side that refused it too.
 */
public final class JobTrustManager extends X509ExtendedTrustManager {

  private static final Logger LOG = LoggerFactory.getLogger(JobTrustManager.class);

  private final X509TrustManager pkix;
  private final X509Certificate ca;
  private final Predicate<NodeIdentity> admitted;
  private final String expected;

  JobTrustManager(
      X509TrustManager pkix,
      X509Certificate ca,
      Predicate<NodeIdentity> admitted,
      String expected) {
    this.pkix = pkix;
    this.ca = ca;
    this.admitted = admitted;
    this.expected = expected;
  }

  /** The identity of a trusted chain, or the reason it is not trusted. */
  NodeIdentity verify(X509Certificate[] chain, String authType, boolean client, String peer)
      throws CertificateException {
    if (chain == null || chain.length == 0) {
      throw refuse(peer, "presented no certificate");
    }
    try {
      if (client) {
        pkix.checkClientTrusted(chain, authType);
      } else {
        pkix.checkServerTrusted(chain, authType);
      }
    } catch (CertificateException e) {
      throw refuse(
          peer,
          "presented a certificate ("
              + chain[0].getSubjectX500Principal()
              + ") that this job's CA did not sign or that is not valid now: "
              + e.getMessage());
    }
    NodeIdentity identity =
        NodeIdentity.of(chain[0])
            .orElseThrow(() -> refuse(peer, "presented a certificate that names no node"));
    if (!admitted.test(identity)) {
      throw refuse(peer, "is " + identity + ", expected " + expected);
    }
    return identity;
  }

  private CertificateException refuse(String peer, String why) {
    String message = "TLS peer " + peer + " " + why;
    LOG.warn("refused: {}", message);
    return new CertificateException(message);
  }

  private static String peer(SSLEngine engine) {
    return engine == null || engine.getPeerHost() == null
        ? "(unknown address)"
        : engine.getPeerHost() + ":" + engine.getPeerPort();
  }

  private static String peer(Socket socket) {
    return socket == null ? "(unknown address)" : String.valueOf(socket.getRemoteSocketAddress());
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    verify(chain, authType, true, "(unknown address)");
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    verify(chain, authType, false, "(unknown address)");
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    verify(chain, authType, true, peer(socket));
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    verify(chain, authType, false, peer(socket));
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    verify(chain, authType, true, peer(engine));
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    verify(chain, authType, false, peer(engine));
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return new X509Certificate[] {ca};
  }
}
