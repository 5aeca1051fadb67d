package io.scoreflow.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** Where a ring starts and when regrouping stops: the coordinator's checkpoint rules, directly. */
class RestartPointTest {

  /** A run's valid checkpoints, changed by the test as rank 0 would write them. */
  private final TreeSet<Long> valid = new TreeSet<>();

  /** Set when the run holds checkpoints none of which verifies. */
  private String corrupt;

  private final CheckpointCatalog catalog =
      new CheckpointCatalog() {
        @Override
        public OptionalLong newestValidStep() {
          return valid.isEmpty() ? OptionalLong.empty() : OptionalLong.of(valid.last());
        }

        @Override
        public OptionalLong newestValidStepAtMost(long bound) {
          Long at = valid.floor(bound);
          return at == null ? OptionalLong.empty() : OptionalLong.of(at);
        }

        @Override
        public Optional<String> noneVerifies() {
          return Optional.ofNullable(corrupt);
        }
      };

  @Test
  void theFirstRingStartsAtTheNewestValidCheckpointOrAtZero() {
    assertEquals(new RestartPoint.Start(0, false, -1), new RestartPoint(catalog, 3).next());
    valid.add(40L);
    assertEquals(new RestartPoint.Start(40, false, -1), new RestartPoint(catalog, 3).next());
  }

  @Test
  void aLaterRingStartsAtTheNewestCheckpointEveryRankAgreedOn() {
    valid.add(10L);
    RestartPoint restarts = new RestartPoint(catalog, 3);
    assertEquals(new RestartPoint.Start(10, false, -1), restarts.next());
    for (long step = 10; step < 25; step++) {
      restarts.agreed(step);
    }
    // Rank 0 wrote step 30, but every rank agreed only up to step 24 (25 steps done).
    valid.add(20L);
    valid.add(30L);
    assertEquals(new RestartPoint.Start(20, false, 25), restarts.next());
    // The steps after 20 are trained again: until the new ring agrees, 20 is what counts.
    assertEquals(new RestartPoint.Start(20, false, 20), restarts.next());
  }

  @Test
  void withNoAgreedCheckpointLeftTheNewestValidOneIsTakenAndSaidToBeUnagreed() {
    valid.add(0L);
    RestartPoint restarts = new RestartPoint(catalog, 3);
    restarts.next();
    restarts.agreed(0);
    restarts.agreed(1);
    // Retention removed everything at or before the 2 agreed steps; only step 5 is left.
    valid.clear();
    valid.add(5L);
    assertEquals(new RestartPoint.Start(5, true, 2), restarts.next());
  }

  @Test
  void aLaterRingRefusesToStartOverCheckpointsThatNoLongerVerify() {
    RestartPoint restarts = new RestartPoint(catalog, 3);
    assertEquals(new RestartPoint.Start(0, false, -1), restarts.next());
    for (long step = 0; step < 12; step++) {
      restarts.agreed(step);
    }
    // Rank 0 wrote steps 5 and 10; then both were damaged on disk.
    corrupt = "none of its 2 checkpoints verifies (newest: step 10 (...))";
    assertEquals(
        new RestartPoint.HistoryLost("the run's checkpoints fail verification: " + corrupt, 12),
        restarts.next());
  }

  @Test
  void aLaterRingRefusesToStartAtZeroWhenTheCheckpointsItStartedFromAreGone() {
    valid.add(40L);
    RestartPoint restarts = new RestartPoint(catalog, 3);
    assertEquals(new RestartPoint.Start(40, false, -1), restarts.next());
    restarts.agreed(40);
    valid.clear();
    RestartPoint.Next next = restarts.next();
    assertTrue(next instanceof RestartPoint.HistoryLost, String.valueOf(next));
    assertEquals(41, ((RestartPoint.HistoryLost) next).agreed());
  }

  @Test
  void aLaterRingOfARunThatNeverCheckpointedStartsAtZeroAgain() {
    RestartPoint restarts = new RestartPoint(catalog, 3);
    restarts.next();
    restarts.agreed(0);
    restarts.agreed(1);
    assertEquals(new RestartPoint.Start(0, false, 2), restarts.next());
  }

  @Test
  void regroupingStopsAfterMaxRegroupsWithoutAnAgreedStepAndProgressResetsTheCount() {
    RestartPoint restarts = new RestartPoint(catalog, 2);
    assertTrue(restarts.mayRegroup());
    assertTrue(restarts.mayRegroup());
    restarts.agreed(7);
    assertTrue(restarts.mayRegroup());
    assertTrue(restarts.mayRegroup());
    // The same step agreed again (a ring after a regroup retrains it) is no progress.
    restarts.agreed(7);
    assertFalse(restarts.mayRegroup());
    assertEquals(2, restarts.regroupsWithoutProgress());
  }
}
