/**
 * The receiving side of the checkpoint service: {@link io.scoreflow.worker.ckpt.CheckpointFetcher}
 * pulls a checkpoint into a local directory, verifying every file against the manifest's SHA-256
 * before the checkpoint becomes visible. The serving side runs on the coordinator ({@code
 * io.scoreflow.coordinator.ckpt}).
 */
package io.scoreflow.worker.ckpt;
