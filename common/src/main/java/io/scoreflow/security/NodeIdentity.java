package io.scoreflow.security;

import io.scoreflow.InvalidInputException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Who a node of a job is: its role and its name (the worker id for a worker). A node certificate
 * names exactly one identity, as the subject-alternative-name URI {@code
 * urn:scoreflow:<role>:<name>}; that URI, not the subject or an address, is what listeners check.
 */
public record NodeIdentity(Role role, String name) {

  /** What a node does in a job; each listener admits some roles only. */
  public enum Role {
    COORDINATOR,
    WORKER,
    SAMPLER;

    /** The name in certificates, file names and flags. */
    public String configName() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** The role called {@code name}, or an error naming the choices. */
    public static Role parse(String name) {
      for (Role r : values()) {
        if (r.configName().equals(name)) {
          return r;
        }
      }
      throw new InvalidInputException(
          "role '" + name + "' is none of coordinator, worker, sampler");
    }
  }

  private static final String URI_PREFIX = "urn:scoreflow:";

  /** Names are file names and URI parts: letters, digits, dot, dash, underscore; 1-64 long. */
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

  /** The name of the coordinator's identity (a job has one coordinator). */
  public static final String COORDINATOR_NAME = "coordinator";

  public NodeIdentity {
    if (role == null) {
      throw new IllegalArgumentException("role must be set");
    }
    if (name == null || !NAME.matcher(name).matches()) {
      throw new InvalidInputException(
          "'"
              + name
              + "' cannot name a node: use 1-64 letters, digits, '.', '-' or '_', starting with a"
              + " letter or digit");
    }
  }

  public static NodeIdentity coordinator() {
    return new NodeIdentity(Role.COORDINATOR, COORDINATOR_NAME);
  }

  public static NodeIdentity worker(String workerId) {
    return new NodeIdentity(Role.WORKER, workerId);
  }

  public static NodeIdentity sampler(String name) {
    return new NodeIdentity(Role.SAMPLER, name);
  }

  /** The subject-alternative-name URI a certificate of this identity carries. */
  public String uri() {
    return URI_PREFIX + role.configName() + ":" + name;
  }

  /** The identity {@code uri} names, if it is a scoreflow identity URI. */
  static Optional<NodeIdentity> parseUri(String uri) {
    if (uri == null || !uri.startsWith(URI_PREFIX)) {
      return Optional.empty();
    }
    String rest = uri.substring(URI_PREFIX.length());
    int colon = rest.indexOf(':');
    if (colon <= 0) {
      return Optional.empty();
    }
    try {
      return Optional.of(
          new NodeIdentity(Role.parse(rest.substring(0, colon)), rest.substring(colon + 1)));
    } catch (InvalidInputException e) {
      return Optional.empty();
    }
  }

  /**
   * The identity {@code certificate} names: its one scoreflow URI among the subject alternative
   * names. A certificate with none or with several names no identity.
   */
  public static Optional<NodeIdentity> of(X509Certificate certificate) {
    Collection<List<?>> names;
    try {
      names = certificate.getSubjectAlternativeNames();
    } catch (CertificateParsingException e) {
      return Optional.empty();
    }
    if (names == null) {
      return Optional.empty();
    }
    NodeIdentity found = null;
    for (List<?> entry : names) {
      // Type 6 is uniformResourceIdentifier (RFC 5280, GeneralName).
      if (entry.size() == 2 && Integer.valueOf(6).equals(entry.get(0))) {
        Optional<NodeIdentity> id = parseUri(String.valueOf(entry.get(1)));
        if (id.isPresent()) {
          if (found != null) {
            return Optional.empty();
          }
          found = id.get();
        }
      }
    }
    return Optional.ofNullable(found);
  }

  @Override
  public String toString() {
    return role == Role.COORDINATOR ? "the coordinator" : role.configName() + " " + name;
  }
}
