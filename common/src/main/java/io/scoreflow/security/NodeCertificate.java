package io.scoreflow.security;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;

/** A node's certificate from the job's CA, with its private key and the identity it names. */
public record NodeCertificate(NodeIdentity identity, X509Certificate certificate, PrivateKey key) {}
