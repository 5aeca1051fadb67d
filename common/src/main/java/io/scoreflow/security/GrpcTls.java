package io.scoreflow.security;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Mutual TLS for gRPC, the same for every service: a server requires a client certificate from the
 * job's CA and decides per call by the identity it names ({@link #admitting}); a client trusts only
 * the identity it means to reach. Plaintext gives insecure credentials and admits every call.
 */
public final class GrpcTls {

  private GrpcTls() {}

  /** Credentials for a server of {@code security}. */
  public static ServerCredentials server(TransportSecurity security) {
    if (security.material().isEmpty()) {
      return InsecureServerCredentials.create();
    }
    TlsMaterial m = security.material().get();
    return TlsServerCredentials.newBuilder()
        .keyManager(m.keyManagers())
        .trustManager(m.trustAnyNode())
        .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE)
        .build();
  }

  /** Credentials for a channel of {@code security} to the node {@code server}. */
  public static ChannelCredentials channel(TransportSecurity security, NodeIdentity server) {
    if (security.material().isEmpty()) {
      return InsecureChannelCredentials.create();
    }
    TlsMaterial m = security.material().get();
    return TlsChannelCredentials.newBuilder()
        .keyManager(m.keyManagers())
        .trustManager(m.trustOnly(server))
        .build();
  }

  /** The identity of the client of {@code call}, when it came over mutual TLS. */
  public static Optional<NodeIdentity> peer(ServerCall<?, ?> call) {
    SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
    if (session == null) {
      return Optional.empty();
    }
    try {
      Certificate[] chain = session.getPeerCertificates();
      return chain.length > 0 && chain[0] instanceof X509Certificate leaf
          ? NodeIdentity.of(leaf)
          : Optional.empty();
    } catch (SSLPeerUnverifiedException e) {
      return Optional.empty();
    }
  }

  /**
   * Lets through only calls from identities of {@code roles} when {@code security} is TLS; any
   * other is closed with PERMISSION_DENIED naming who called and whom {@code service} serves.
   */
  public static ServerInterceptor admitting(
      TransportSecurity security, String service, Set<NodeIdentity.Role> roles) {
    Set<NodeIdentity.Role> allowed = EnumSet.copyOf(roles);
    return new ServerInterceptor() {
      @Override
      public <Q, A> ServerCall.Listener<Q> interceptCall(
          ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
        if (!security.isTls()) {
          return next.startCall(call, headers);
        }
        Optional<NodeIdentity> who = peer(call);
        if (who.isEmpty() || !allowed.contains(who.get().role())) {
          call.close(
              Status.PERMISSION_DENIED.withDescription(
                  who.map(NodeIdentity::toString).orElse("a client without a node certificate")
                      + " may not use the "
                      + service
                      + "; it serves "
                      + allowed.stream()
                          .map(r -> r.configName() + "s")
                          .collect(Collectors.joining(" and "))),
              new Metadata());
          return new ServerCall.Listener<>() {};
        }
        return next.startCall(call, headers);
      }
    };
  }
}
