package io.scoreflow.ckpt;

import io.scoreflow.data.DataCursor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

/** Small deterministic snapshots: every value depends on the step, so checkpoints differ. */
final class Snapshots {
  static final String JOB = "cifar10-vp-poly";
  static final String CONFIG = "scoreflow { sde = vp-poly, sde.vp-poly.rho = 5 }";
  static final Clock CLOCK = Clock.fixed(Instant.parse("2025-01-31T12:00:00Z"), ZoneOffset.UTC);

  private Snapshots() {}

  static CheckpointSnapshot of(long step) {
    return builder(step).build();
  }

  static CheckpointSnapshot.Builder builder(long step) {
    return CheckpointSnapshot.builder()
        .jobId(JOB)
        .step(step)
        .generation(3)
        .config(CONFIG)
        .dataCursor(new DataCursor(step / 100, (int) (step % 100)))
        .rng(new RngState(42, Map.of("torch.offset", Long.toString(step * 7))))
        .group(
            "model",
            List.of(
                tensor("all_modules.0.weight", step, 4, 3),
                tensor("all_modules.0.bias", step + 1, 4),
                tensor("all_modules.1.GroupNorm_0.scale", step + 2)))
        .group("ema", List.of(tensor("all_modules.0.weight", -step, 4, 3)))
        .group("optimizer", List.of(tensor("exp_avg.all_modules.0.weight", step * 0.5f, 4, 3)));
  }

  /**
   * Rewrites {@code manifest.sha256} of a checkpoint directory to match its manifest as it is now:
   * what a deliberate edit of the manifest must do, so that a test reaches the checks behind the
   * manifest's checksum.
   */
  static void reseal(Path dir) throws IOException {
    Files.write(
        dir.resolve(CheckpointLayout.MANIFEST_CHECKSUM),
        ManifestChecksum.of(Files.readAllBytes(dir.resolve(CheckpointLayout.MANIFEST))));
  }

  /**
   * Turns a checkpoint directory into what format 1 wrote: the same manifest layout with {@code
   * "format" : 1}, and no {@code manifest.sha256}.
   */
  static void downgradeToFormat1(Path dir) throws IOException {
    Path manifest = dir.resolve(CheckpointLayout.MANIFEST);
    String text = Files.readString(manifest);
    if (!text.contains("\"format\" : 2,")) {
      throw new IllegalStateException("not a format-2 manifest: " + text);
    }
    Files.writeString(manifest, text.replace("\"format\" : 2,", "\"format\" : 1,"));
    Files.delete(dir.resolve(CheckpointLayout.MANIFEST_CHECKSUM));
  }

  static HostTensor tensor(String name, float base, long... shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    float[] data = new float[(int) n];
    for (int i = 0; i < data.length; i++) {
      data[i] = base + i * 0.25f;
    }
    return new HostTensor(name, shape, data);
  }
}
