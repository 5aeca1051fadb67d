/**
 * The checkpoint store: one directory per step under a checkpoint root, holding safetensors files
 * of named float tensors and a {@code manifest.json} (format version, job, step, generation,
 * config, data cursor, RNG state, SHA-256 and size of every file).
 *
 * <p>Writing is crash-safe: everything goes into a hidden temporary directory, is fsynced, renamed
 * to {@code step-NNNNNNNNN}, and only then does the {@code LATEST} pointer move to it (itself
 * replaced atomically). The pointer update is the commit: a reader follows {@code LATEST}, verifies
 * every checksum, and falls back to the previous valid checkpoint when one fails. Retention is a
 * policy object applied only after a commit. {@link io.scoreflow.ckpt.AsyncCheckpointWriter} moves
 * the disk work off the training thread with a bounded queue.
 */
package io.scoreflow.ckpt;
