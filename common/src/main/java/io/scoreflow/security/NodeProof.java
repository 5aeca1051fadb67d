package io.scoreflow.security;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Optional;

/**
 * A node's signature over what it claims in a message, with its certificate: the proof that an
 * actor message (which mutual TLS only tells came from <em>some</em> node of the job) came from the
 * identity it claims. A worker signs its registration; the coordinator checks the certificate
 * against the job's CA, the signature against the certificate, and the identity against the claimed
 * worker id, so one admitted worker cannot register as another.
 *
 * @param certificate the signer's certificate, DER
 * @param signature SHA256withECDSA over the statement's UTF-8 bytes
 */
public record NodeProof(byte[] certificate, byte[] signature) {

  /** The proof of nothing: what a plaintext node sends. */
  public static NodeProof none() {
    return new NodeProof(new byte[0], new byte[0]);
  }

  public boolean isEmpty() {
    return certificate.length == 0;
  }

  /** {@code material}'s node signs {@code statement}. */
  public static NodeProof sign(TlsMaterial material, String statement) {
    try {
      Signature s = Signature.getInstance(algorithm(material.self().key().getAlgorithm()));
      s.initSign(material.self().key());
      s.update(statement.getBytes(StandardCharsets.UTF_8));
      return new NodeProof(material.self().certificate().getEncoded(), s.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("could not sign as " + material.identity(), e);
    }
  }

  /**
   * The identity that signed {@code statement}, or why this proof does not show one: a missing
   * proof, a certificate that is not the job CA's ({@code ca}) or not valid now, a signature that
   * does not match.
   */
  public Verified verify(X509Certificate ca, String statement) {
    if (isEmpty()) {
      return Verified.refused("it carries no certificate (a node started with --insecure?)");
    }
    if (certificate.length > 64 << 10 || signature.length > 1 << 10) {
      return Verified.refused("its certificate or signature is implausibly large");
    }
    X509Certificate cert;
    try {
      cert =
          (X509Certificate)
              CertificateFactory.getInstance("X.509")
                  .generateCertificate(new ByteArrayInputStream(certificate));
    } catch (GeneralSecurityException | ClassCastException e) {
      return Verified.refused("its certificate cannot be read");
    }
    Optional<String> problem = CertificateDirectory.problem(cert, ca);
    if (problem.isPresent()) {
      return Verified.refused("its certificate is " + problem.get());
    }
    Optional<NodeIdentity> identity = NodeIdentity.of(cert);
    if (identity.isEmpty()) {
      return Verified.refused("its certificate names no node");
    }
    try {
      Signature v = Signature.getInstance(algorithm(cert.getPublicKey().getAlgorithm()));
      v.initVerify(cert.getPublicKey());
      v.update(statement.getBytes(StandardCharsets.UTF_8));
      if (!v.verify(signature)) {
        return Verified.refused("its signature does not match what it claims");
      }
    } catch (GeneralSecurityException e) {
      return Verified.refused("its signature cannot be checked: " + e.getMessage());
    }
    return new Verified(identity, null);
  }

  /** The outcome of {@link #verify}: the identity, or the reason there is none. */
  public record Verified(Optional<NodeIdentity> identity, String refusal) {
    static Verified refused(String why) {
      return new Verified(Optional.empty(), why);
    }
  }

  private static String algorithm(String keyAlgorithm) {
    return "RSA".equals(keyAlgorithm) ? "SHA256withRSA" : "SHA256withECDSA";
  }
}
