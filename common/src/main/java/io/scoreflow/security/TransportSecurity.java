package io.scoreflow.security;

import java.util.Optional;

/**
 * How a node's channels are protected: mutual TLS from the job's CA (the default of every command)
 * or, only when the user said {@code --insecure}, plaintext, which admits anyone who reaches a
 * port. One value per process, handed to every listener and client it starts.
 */
public sealed interface TransportSecurity
    permits TransportSecurity.Plaintext, TransportSecurity.MutualTls {

  /** No TLS, no identities: what {@code --insecure} gives. */
  record Plaintext() implements TransportSecurity {}

  /** Mutual TLS as {@code node}. */
  record MutualTls(TlsMaterial node) implements TransportSecurity {}

  static TransportSecurity plaintext() {
    return new Plaintext();
  }

  static TransportSecurity mutualTls(TlsMaterial material) {
    return new MutualTls(material);
  }

  /** The TLS material, when this is mutual TLS. */
  default Optional<TlsMaterial> material() {
    return this instanceof MutualTls m ? Optional.of(m.node()) : Optional.empty();
  }

  default boolean isTls() {
    return this instanceof MutualTls;
  }

  /** What the log says about it. */
  default String describe() {
    return material()
        .map(m -> "mutual TLS as " + m.identity())
        .orElse("PLAINTEXT (--insecure: any process that reaches a port is admitted)");
  }
}
