/**
 * Who may talk to whom in a job: the job's certificate authority, the identities its certificates
 * name ({@link io.scoreflow.security.NodeIdentity}: the coordinator, a worker by id, a sampler),
 * and the mutual TLS that every channel between nodes runs on (gRPC, Pekko Artery, the star
 * exchange's sockets). A node proves who it is with a certificate from the job's CA; what a
 * listener admits is decided by the identity, not by an address or a claim in a message.
 */
package io.scoreflow.security;
