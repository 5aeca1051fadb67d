/**
 * The serving side of the checkpoint service ({@code scoreflow/v1/checkpoint.proto}): the node that
 * holds a run's checkpoints streams a complete, verified one in checksummed chunks ({@link
 * io.scoreflow.coordinator.ckpt.CheckpointServer}). The receiving side is the worker's {@code
 * io.scoreflow.worker.ckpt.CheckpointFetcher}; the format itself is {@code io.scoreflow.ckpt}'s.
 */
package io.scoreflow.coordinator.ckpt;
