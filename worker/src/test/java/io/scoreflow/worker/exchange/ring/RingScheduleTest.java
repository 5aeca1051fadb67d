package io.scoreflow.worker.exchange.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The schedule's invariants, and a ring simulated on counters with it. */
class RingScheduleTest {

  @ParameterizedTest(name = "world {0}, {1} elements, chunks of {2}")
  @CsvSource({"1, 10, 4", "2, 1, 4", "3, 2, 4", "3, 10, 3", "4, 1000, 7", "5, 17, 100"})
  void everyRankEndsWithTheSumOfEveryContribution(int world, int elements, int chunk) {
    // Each element holds a bit mask of the ranks whose contribution it contains.
    long[][] masks = new long[world][elements];
    RingSchedule[] s = new RingSchedule[world];
    for (int r = 0; r < world; r++) {
      s[r] = new RingSchedule(world, r, elements, chunk);
      java.util.Arrays.fill(masks[r], 1L << r);
    }
    for (int r = 0; r < world; r++) {
      List<RingSchedule.Slot> out = s[r].sends();
      List<RingSchedule.Slot> in = s[(r + 1) % world].receives();
      assertEquals(out, in, "what rank " + r + " sends is what its right neighbour expects");
      for (int i = 0; i < out.size(); i++) {
        int waits = s[r].sendWaitsFor(i);
        assertTrue(waits < s[r].receives().size());
        if (waits >= 0) {
          RingSchedule.Slot needed = s[r].receives().get(waits);
          assertEquals(out.get(i).offset(), needed.offset());
          assertEquals(out.get(i).step() - 1, needed.step());
        }
      }
    }
    // Run the steps in lock-step: at step t every rank sends, then every rank applies.
    for (int t = 0; t < 2 * (world - 1); t++) {
      long[][] sent = new long[world][];
      for (int r = 0; r < world; r++) {
        sent[r] = masks[r].clone();
      }
      for (int r = 0; r < world; r++) {
        int left = Math.floorMod(r - 1, world);
        for (RingSchedule.Slot slot : s[r].receives()) {
          if (slot.step() != t) {
            continue;
          }
          for (int i = slot.offset(); i < slot.offset() + slot.length(); i++) {
            masks[r][i] = t < world - 1 ? masks[r][i] | sent[left][i] : sent[left][i];
          }
        }
      }
    }
    long all = (1L << world) - 1;
    for (int r = 0; r < world; r++) {
      for (int i = 0; i < elements; i++) {
        assertEquals(all, masks[r][i], "rank " + r + " element " + i);
      }
    }
  }
}
