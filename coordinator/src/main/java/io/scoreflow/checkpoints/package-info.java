/**
 * The checkpoint service ({@code scoreflow/v1/checkpoint.proto}): the node that holds a run's
 * checkpoints streams a complete, verified one in checksummed chunks ({@link CheckpointServer});
 * {@link CheckpointFetcher} receives it into a local directory, verifying every file against the
 * manifest's SHA-256 before the checkpoint becomes visible.
 */
package io.scoreflow.checkpoints;
