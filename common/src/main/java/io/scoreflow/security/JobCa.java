package io.scoreflow.security;

import io.scoreflow.InvalidInputException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A job's certificate authority: the one key that decides who belongs to the job. It signs a
 * certificate per node naming the node's {@link NodeIdentity}; every listener trusts this CA only.
 * Keys are ECDSA P-256 (handshakes cost a fraction of RSA's), certificates are signed with SHA-256.
 *
 * <p>On disk ({@link CertificateDirectory}) the CA is {@code ca.crt} and {@code ca.key}; only the
 * machine that issues certificates needs the key, every node needs {@code ca.crt}.
 */
public final class JobCa {

  /** How long a CA made by {@code certs init} is valid unless told otherwise. */
  public static final Duration DEFAULT_CA_VALIDITY = Duration.ofDays(3650);

  /** How long a node certificate is valid unless told otherwise; rotate before it runs out. */
  public static final Duration DEFAULT_NODE_VALIDITY = Duration.ofDays(365);

  private static final SecureRandom RANDOM = new SecureRandom();

  /** Certificates start a little in the past, so clocks a minute apart agree they are valid. */
  private static final Duration CLOCK_SKEW = Duration.ofMinutes(5);

  private final X509Certificate certificate;
  private final PrivateKey key;

  JobCa(X509Certificate certificate, PrivateKey key) {
    this.certificate = certificate;
    this.key = key;
  }

  /** A new CA for the job {@code job}, valid for {@code validity}. */
  public static JobCa create(String job, Duration validity) {
    KeyPair pair = newKeyPair();
    X500Name subject =
        new X500NameBuilder(BCStyle.INSTANCE)
            .addRDN(BCStyle.O, "scoreflow")
            .addRDN(BCStyle.CN, "scoreflow job CA " + job)
            .build();
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder b =
          builder(subject, subject, pair, validity)
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
              .addExtension(
                  Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
              .addExtension(
                  Extension.subjectKeyIdentifier,
                  false,
                  ext.createSubjectKeyIdentifier(pair.getPublic()));
      return new JobCa(sign(b, pair.getPrivate()), pair.getPrivate());
    } catch (GeneralSecurityException | CertIOException e) {
      throw new IllegalStateException("could not make a CA certificate", e);
    }
  }

  /** A certificate for {@code identity}, valid for {@code validity}, with a fresh key. */
  public NodeCertificate issue(NodeIdentity identity, Duration validity) {
    KeyPair pair = newKeyPair();
    X500Name subject =
        new X500NameBuilder(BCStyle.INSTANCE)
            .addRDN(BCStyle.O, "scoreflow")
            .addRDN(BCStyle.OU, identity.role().configName())
            .addRDN(BCStyle.CN, identity.name())
            .build();
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder b =
          builder(
                  X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded()),
                  subject,
                  pair,
                  validity)
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
              .addExtension(
                  Extension.keyUsage,
                  true,
                  new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement))
              .addExtension(
                  Extension.extendedKeyUsage,
                  false,
                  new ExtendedKeyUsage(
                      new KeyPurposeId[] {
                        KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth
                      }))
              .addExtension(
                  Extension.subjectAlternativeName,
                  true,
                  new GeneralNames(
                      new GeneralName(GeneralName.uniformResourceIdentifier, identity.uri())))
              .addExtension(
                  Extension.subjectKeyIdentifier,
                  false,
                  ext.createSubjectKeyIdentifier(pair.getPublic()))
              .addExtension(
                  Extension.authorityKeyIdentifier,
                  false,
                  ext.createAuthorityKeyIdentifier(certificate));
      return new NodeCertificate(identity, sign(b, key), pair.getPrivate());
    } catch (GeneralSecurityException | CertIOException e) {
      throw new IllegalStateException("could not issue a certificate for " + identity, e);
    }
  }

  public X509Certificate certificate() {
    return certificate;
  }

  PrivateKey key() {
    return key;
  }

  /** Writes {@code ca.crt} and {@code ca.key} into {@code dir}, refusing to replace them. */
  public void writeTo(Path dir) {
    CertificateDirectory.writeCa(dir, this);
  }

  /** The CA of {@code dir}, with its key (to issue more certificates). */
  public static JobCa load(Path dir) {
    Path keyFile = dir.resolve(CertificateDirectory.CA_KEY);
    if (!Files.exists(keyFile)) {
      throw new InvalidInputException(
          keyFile + " does not exist: issuing certificates needs the CA's key");
    }
    return new JobCa(CertificateDirectory.caCertificate(dir), Pem.privateKey(keyFile));
  }

  private static JcaX509v3CertificateBuilder builder(
      X500Name issuer, X500Name subject, KeyPair pair, Duration validity) {
    if (validity.isNegative() || validity.isZero()) {
      throw new InvalidInputException("a certificate must be valid for a positive time");
    }
    Instant now = Instant.now();
    return new JcaX509v3CertificateBuilder(
        issuer,
        new BigInteger(127, RANDOM).add(BigInteger.ONE),
        Date.from(now.minus(CLOCK_SKEW)),
        Date.from(now.plus(validity)),
        subject,
        pair.getPublic());
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey signer)
      throws GeneralSecurityException {
    try {
      return new JcaX509CertificateConverter()
          .getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer)));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException(e);
    }
  }

  private static KeyPair newKeyPair() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JVM cannot make P-256 keys", e);
    }
  }
}
