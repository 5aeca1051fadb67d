/** {@code scoreflow certs}: the job's CA and node certificates for mutual TLS. */
package io.scoreflow.cli.certs;
