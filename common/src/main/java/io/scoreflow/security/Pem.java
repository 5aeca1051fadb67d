package io.scoreflow.security;

import io.scoreflow.InvalidInputException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/**
 * Certificates and keys as PEM files, the format openssl, Kubernetes Secrets and every TLS stack
 * read. Files are written whole or not at all (a temporary file renamed into place), keys readable
 * by their owner only.
 */
final class Pem {

  /** A PEM certificate or key is a few kilobytes; anything far larger is not one. */
  private static final long MAX_BYTES = 1 << 20;

  private Pem() {}

  static String encode(Object certificateOrKey) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter pem = new JcaPEMWriter(out)) {
      if (certificateOrKey instanceof PrivateKey key) {
        pem.writeObject(new JcaPKCS8Generator(key, null));
      } else {
        pem.writeObject(certificateOrKey);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  static X509Certificate certificate(Path file) {
    String text = read(file);
    try {
      CertificateFactory factory = CertificateFactory.getInstance("X.509");
      return (X509Certificate)
          factory.generateCertificate(
              new ByteArrayInputStream(text.getBytes(StandardCharsets.US_ASCII)));
    } catch (GeneralSecurityException | ClassCastException e) {
      throw new InvalidInputException(file + " holds no PEM certificate: " + e.getMessage(), e);
    }
  }

  static PrivateKey privateKey(Path file) {
    try (Reader r = new StringReader(read(file));
        PEMParser parser = new PEMParser(r)) {
      Object o = parser.readObject();
      JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
      if (o instanceof PrivateKeyInfo info) {
        return converter.getPrivateKey(info);
      }
      if (o instanceof PEMKeyPair pair) {
        return converter.getKeyPair(pair).getPrivate();
      }
      throw new InvalidInputException(file + " holds no unencrypted PEM private key");
    } catch (IOException e) {
      throw new InvalidInputException(file + " holds no PEM private key: " + e.getMessage(), e);
    }
  }

  private static String read(Path file) {
    try {
      long size = Files.size(file);
      if (size > MAX_BYTES) {
        throw new InvalidInputException(
            file + " is " + size + " bytes, too large for a PEM certificate or key");
      }
      return Files.readString(file, StandardCharsets.US_ASCII);
    } catch (NoSuchFileException e) {
      throw new InvalidInputException(file + " does not exist");
    } catch (IOException e) {
      throw new InvalidInputException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Writes {@code text} to {@code file}, refusing to replace an existing file: certificates are
   * issued once, and overwriting a CA key would orphan every certificate it signed.
   */
  static void writeNew(Path file, String text, boolean secret) {
    if (Files.exists(file)) {
      throw new InvalidInputException(file + " already exists; nothing was overwritten");
    }
    try {
      Path dir = file.toAbsolutePath().getParent();
      Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
      try {
        if (secret) {
          try {
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
          } catch (UnsupportedOperationException e) {
            // Not a POSIX file system: its own access rules apply.
          }
        }
        Files.writeString(tmp, text, StandardCharsets.US_ASCII);
        try {
          Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
          Files.move(tmp, file);
        }
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (FileAlreadyExistsException e) {
      throw new InvalidInputException(file + " already exists; nothing was overwritten");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }
}
