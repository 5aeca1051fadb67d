package io.scoreflow.security;

import io.scoreflow.InvalidInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.util.Optional;

/**
 * A directory of a job's certificates, as {@code scoreflow certs init} writes it and every node
 * reads it: {@code ca.crt} (every node), {@code ca.key} (only where certificates are issued), and
 * per node {@code NAME.crt} and {@code NAME.key}, NAME being the identity's name (a worker's id,
 * {@code coordinator}). A node needs {@code ca.crt} and its own pair, nothing else.
 */
public final class CertificateDirectory {

  public static final String CA_CERT = "ca.crt";
  public static final String CA_KEY = "ca.key";

  private CertificateDirectory() {}

  static void writeCa(Path dir, JobCa ca) {
    Pem.writeNew(dir.resolve(CA_CERT), Pem.encode(ca.certificate()), false);
    Pem.writeNew(dir.resolve(CA_KEY), Pem.encode(ca.key()), true);
  }

  /**
   * Writes only the CA's certificate: a directory for nodes, which need to trust the CA but must
   * not be able to issue certificates.
   */
  public static void writeCaCertificate(Path dir, X509Certificate ca) {
    Pem.writeNew(dir.resolve(CA_CERT), Pem.encode(ca), false);
  }

  /** Writes {@code node}'s {@code NAME.crt} and {@code NAME.key}, refusing to replace them. */
  public static void write(Path dir, NodeCertificate node) {
    String name = node.identity().name();
    Pem.writeNew(dir.resolve(name + ".key"), Pem.encode(node.key()), true);
    Pem.writeNew(dir.resolve(name + ".crt"), Pem.encode(node.certificate()), false);
  }

  /** The CA certificate of {@code dir}. */
  public static X509Certificate caCertificate(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new InvalidInputException(
          "certificate directory "
              + dir
              + " does not exist (make one with: scoreflow certs init --dir "
              + dir
              + ")");
    }
    return Pem.certificate(dir.resolve(CA_CERT));
  }

  /** Whether {@code dir} holds a certificate named {@code name}. */
  public static boolean has(Path dir, String name) {
    return Files.exists(dir.resolve(name + ".crt"));
  }

  /**
   * The certificate and key of the node called {@code name}, checked: signed by the directory's CA,
   * valid now, naming an identity called {@code name}, and matching its key.
   */
  public static TlsMaterial load(Path dir, String name) {
    X509Certificate ca = caCertificate(dir);
    Path certFile = dir.resolve(name + ".crt");
    Path keyFile = dir.resolve(name + ".key");
    if (!Files.exists(certFile)) {
      throw new InvalidInputException(
          "no certificate for '"
              + name
              + "' in "
              + dir
              + " (expected "
              + certFile.getFileName()
              + " and "
              + keyFile.getFileName()
              + "; issue one with: scoreflow certs issue --dir "
              + dir
              + " --name "
              + name
              + ")");
    }
    X509Certificate cert = Pem.certificate(certFile);
    PrivateKey key = Pem.privateKey(keyFile);
    Optional<String> problem = problem(cert, ca);
    if (problem.isPresent()) {
      throw new InvalidInputException(certFile + ": " + problem.get());
    }
    NodeIdentity identity =
        NodeIdentity.of(cert)
            .orElseThrow(
                () -> new InvalidInputException(certFile + " names no scoreflow node identity"));
    if (!identity.name().equals(name)) {
      throw new InvalidInputException(
          certFile + " is the certificate of " + identity + ", not of '" + name + "'");
    }
    if (!matches(cert, key)) {
      throw new InvalidInputException(keyFile + " is not the key of " + certFile);
    }
    return new TlsMaterial(ca, new NodeCertificate(identity, cert, key));
  }

  /** Why {@code cert} is not a valid certificate of the CA {@code ca} now, if it is not. */
  static Optional<String> problem(X509Certificate cert, X509Certificate ca) {
    try {
      cert.verify(ca.getPublicKey());
    } catch (GeneralSecurityException e) {
      return Optional.of("not signed by the job's CA (" + ca.getSubjectX500Principal() + ")");
    }
    try {
      cert.checkValidity();
    } catch (CertificateExpiredException e) {
      return Optional.of("expired on " + cert.getNotAfter().toInstant() + "; issue a new one");
    } catch (CertificateNotYetValidException e) {
      return Optional.of(
          "not valid before " + cert.getNotBefore().toInstant() + " (is this clock right?)");
    }
    return Optional.empty();
  }

  private static boolean matches(X509Certificate cert, PrivateKey key) {
    try {
      byte[] probe = "scoreflow key check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      String algorithm = "RSA".equals(key.getAlgorithm()) ? "SHA256withRSA" : "SHA256withECDSA";
      Signature s = Signature.getInstance(algorithm);
      s.initSign(key);
      s.update(probe);
      byte[] signature = s.sign();
      Signature v = Signature.getInstance(algorithm);
      v.initVerify(cert.getPublicKey());
      v.update(probe);
      return v.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }
}
