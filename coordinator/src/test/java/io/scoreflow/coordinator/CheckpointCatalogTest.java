package io.scoreflow.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoreflow.ckpt.CheckpointSnapshot;
import io.scoreflow.ckpt.CheckpointStore;
import io.scoreflow.ckpt.HostTensor;
import io.scoreflow.ckpt.RngState;
import io.scoreflow.data.DataCursor;
import io.scoreflow.run.RunDirectory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The catalog of a real run directory: valid steps, and the failure when none verifies. */
class CheckpointCatalogTest {

  @Test
  void namesTheNewestFailureWhenNoCheckpointVerifies(@TempDir Path dir) throws IOException {
    RunDirectory run = new RunDirectory(dir);
    CheckpointCatalog catalog = CheckpointCatalog.of(run);
    assertEquals(OptionalLong.empty(), catalog.newestValidStep());
    assertEquals(Optional.empty(), catalog.noneVerifies(), "no checkpoint is not a corrupt one");

    try (CheckpointStore store = CheckpointStore.open(run.checkpoints())) {
      store.write(snapshot(5));
      store.write(snapshot(10));
    }
    assertEquals(OptionalLong.of(10), catalog.newestValidStep());
    assertEquals(OptionalLong.of(5), catalog.newestValidStepAtMost(9));

    for (String step : List.of("step-000000005", "step-000000010")) {
      Path model = run.checkpoints().resolve(step).resolve("model.safetensors");
      byte[] bytes = Files.readAllBytes(model);
      bytes[bytes.length - 1] ^= 1;
      Files.write(model, bytes);
    }
    assertEquals(OptionalLong.empty(), catalog.newestValidStep());
    String why = catalog.noneVerifies().orElseThrow();
    assertTrue(why.startsWith("none of its 2 checkpoints verifies (newest: step 10 ("), why);
  }

  private static CheckpointSnapshot snapshot(long step) {
    return CheckpointSnapshot.builder()
        .jobId("catalog")
        .step(step)
        .generation(1)
        .config("scoreflow { }")
        .dataCursor(new DataCursor(0, (int) step))
        .rng(new RngState(1, Map.of()))
        .group("model", List.of(new HostTensor("w", new long[] {4}, new float[] {step, 1, 2, 3})))
        .build();
  }
}
