package io.scoreflow.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the pool and a restarted coordinator read back from a journal. */
class JobJournalTest {

  private static void journal(Path dir, String... lines) throws IOException {
    Files.writeString(dir.resolve(JobJournal.FILE), String.join("\n", lines) + "\n");
  }

  @Test
  void theNewestGenerationAndTheFinishOfTheLastRingSurviveATornLastLine(@TempDir Path dir)
      throws IOException {
    assertEquals(0, JobJournal.lastGeneration(dir));
    assertEquals(OptionalLong.empty(), JobJournal.finishedStep(dir));
    journal(
        dir,
        "{\"event\":\"ring\",\"generation\":1,\"start_step\":0}",
        "{\"event\":\"regroup\",\"generation\":2}",
        "{\"event\":\"ring\",\"generation\":2,\"start_step\":20}",
        "{\"event\":\"finish\",\"generation\":2,\"step\":40}",
        "{\"event\":\"ring\",\"generation\":3,\"sta");
    assertEquals(2, JobJournal.lastGeneration(dir));
    assertEquals(OptionalLong.of(40), JobJournal.finishedStep(dir));
    // A later ring (resumed for more steps) that has not finished: not finished.
    journal(
        dir,
        "{\"event\":\"ring\",\"generation\":2,\"start_step\":20}",
        "{\"event\":\"finish\",\"generation\":2,\"step\":40}",
        "{\"event\":\"ring\",\"generation\":3,\"start_step\":40}");
    assertEquals(3, JobJournal.lastGeneration(dir));
    assertEquals(OptionalLong.empty(), JobJournal.finishedStep(dir));
    // A failure after the finish (a cancelled resubmission) is not a finish either.
    journal(
        dir,
        "{\"event\":\"finish\",\"generation\":2,\"step\":40}",
        "{\"event\":\"fail\",\"generation\":3,\"reason\":\"CANCELLED\"}");
    assertEquals(OptionalLong.empty(), JobJournal.finishedStep(dir));
  }
}
