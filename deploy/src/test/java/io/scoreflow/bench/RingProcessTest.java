package io.scoreflow.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Three real worker processes ({@link RingWorkerMain}, spawned with this JVM's class path) on
 * loopback: every rank checks every element of its result against the exact sum or mean, and the
 * replicas agree bit for bit (same CRC-32 on every rank).
 */
class RingProcessTest {

  @Test
  void threeProcessesReduceExactlyAndAgree() {
    int world = 3;
    List<RingWorkerProcess> workers = new ArrayList<>();
    try {
      for (int r = 0; r < world; r++) {
        workers.add(RingWorkerProcess.start("rank" + r, List.of("-Xmx256m")));
      }
      List<String> peers = new ArrayList<>();
      for (RingWorkerProcess w : workers) {
        peers.add("127.0.0.1:" + w.expect("PORT", 60, TimeUnit.SECONDS));
      }
      for (int r = 0; r < world; r++) {
        workers
            .get(r)
            .send("RING job 1 " + r + " " + String.join(",", peers) + " 65536 FP32 20000");
      }
      for (RingWorkerProcess w : workers) {
        w.expect("READY", 30, TimeUnit.SECONDS);
      }
      // Sizes smaller than the world, not divisible by it nor by the chunk (16 Ki elements),
      // and several chunks per segment.
      long step = 0;
      for (int elements : new int[] {1, 2, 3, 1001, 300_007}) {
        for (String op : new String[] {"SUM", "MEAN"}) {
          for (RingWorkerProcess w : workers) {
            w.send("CHECK " + elements + " " + step + " " + op);
          }
          String first = null;
          for (int r = 0; r < world; r++) {
            String answer = workers.get(r).expect("OK", 60, TimeUnit.SECONDS);
            if (first == null) {
              first = answer;
            }
            assertEquals(first, answer, "rank " + r + " differs, " + elements + " elements, " + op);
          }
          step++;
        }
      }
      assertTrue(step > 0);
    } finally {
      for (RingWorkerProcess w : workers) {
        w.close();
      }
    }
  }
}
