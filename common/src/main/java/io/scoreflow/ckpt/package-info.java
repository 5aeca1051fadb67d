/**
 * The checkpoint store: one directory per step under a checkpoint root, holding safetensors files
 * of named float tensors, a {@code manifest.json} (format version, job, step, generation, config,
 * data cursor, RNG state, SHA-256 and size of every file) and {@code manifest.sha256} (the
 * manifest's own SHA-256).
 *
 * <p>Writing is crash-safe: everything goes into a hidden temporary directory, is fsynced, renamed
 * to {@code step-NNNNNNNNN}, and only then does the {@code LATEST} pointer move to it (itself
 * replaced atomically). The pointer update is the commit: a reader follows {@code LATEST}, verifies
 * the manifest's checksum, every file's and that the tensors decode, and falls back to the previous
 * checkpoint that verifies when one fails ({@link io.scoreflow.ckpt.CheckpointSearch} tells that
 * apart from a root with no checkpoint and from one where none verifies). A root where none
 * verifies can be set aside, never deleted, into {@code corrupt-<time>/}. Retention is a policy
 * object applied only after a commit. {@link io.scoreflow.ckpt.AsyncCheckpointWriter} moves the
 * disk work off the training thread with a bounded queue.
 */
package io.scoreflow.ckpt;
