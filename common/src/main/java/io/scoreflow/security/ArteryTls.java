package io.scoreflow.security;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import org.apache.pekko.actor.BootstrapSetup;
import org.apache.pekko.actor.setup.ActorSystemSetup;
import org.apache.pekko.actor.setup.Setup;
import org.apache.pekko.remote.artery.tcp.SSLEngineProvider;
import org.apache.pekko.remote.artery.tcp.SSLEngineProviderSetup;
import scala.Option;

/**
 * Mutual TLS for Pekko Artery ({@code transport = tls-tcp}) from the same material as gRPC: both
 * sides present their node certificate and trust only the job's CA. Given to the actor system as a
 * {@link Setup}, so no keystore file is ever written; Artery itself authenticates the connection,
 * while who may do what (a worker registering under its own id only) is checked per message by the
 * coordinator ({@link NodeProof}).
 */
public final class ArteryTls implements SSLEngineProvider {

  private static final String[] PROTOCOLS = {"TLSv1.3"};

  private final SSLContext context;

  private ArteryTls(TlsMaterial material) {
    this.context = material.sslContext(material.trustAnyNode());
  }

  /** The setup that makes an actor system's Artery use {@code material}. */
  static Setup setup(TlsMaterial material) {
    return SSLEngineProviderSetup.create(system -> new ArteryTls(material));
  }

  /**
   * The setup of a cluster node's actor system with {@code node} (its Pekko config) under {@code
   * security}: Artery over TLS with this node's certificate, or plain TCP for {@code --insecure}.
   */
  public static ActorSystemSetup systemSetup(Config node, TransportSecurity security) {
    if (security.material().isEmpty()) {
      return ActorSystemSetup.create(BootstrapSetup.create(node));
    }
    Config tls =
        ConfigFactory.parseString("pekko.remote.artery.transport = tls-tcp").withFallback(node);
    return ActorSystemSetup.create(BootstrapSetup.create(tls), setup(security.material().get()));
  }

  @Override
  public SSLEngine createServerSSLEngine(String hostname, int port) {
    SSLEngine engine = context.createSSLEngine();
    engine.setUseClientMode(false);
    engine.setNeedClientAuth(true);
    engine.setEnabledProtocols(PROTOCOLS);
    return engine;
  }

  @Override
  public SSLEngine createClientSSLEngine(String hostname, int port) {
    SSLEngine engine = context.createSSLEngine(hostname, port);
    engine.setUseClientMode(true);
    engine.setEnabledProtocols(PROTOCOLS);
    return engine;
  }

  @Override
  public Option<Throwable> verifyClientSession(String hostname, SSLSession session) {
    return Option.empty();
  }

  @Override
  public Option<Throwable> verifyServerSession(String hostname, SSLSession session) {
    return Option.empty();
  }
}
