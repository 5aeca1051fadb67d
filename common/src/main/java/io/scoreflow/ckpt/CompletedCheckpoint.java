package io.scoreflow.ckpt;

import java.nio.file.Path;

/** A checkpoint that is on disk under its final name and whose files match its manifest. */
public record CompletedCheckpoint(Path directory, CheckpointManifest manifest)
    implements VerifiedCheckpoint {}
