package io.scoreflow.theory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class W2SweepTest {

  @Test
  void slopeOfAnExactPowerLaw() {
    List<W2Sweep.Point> points =
        List.of(10, 20, 50, 100, 1000).stream()
            .map(k -> new W2Sweep.Point(k, 3.0 * Math.pow(k, -1.5)))
            .toList();
    assertEquals(-1.5, W2Sweep.logLogSlope(points), 1e-12);
  }

  @Test
  void slopeIsUndefinedForOnePointOrAZeroW2() {
    assertTrue(Double.isNaN(W2Sweep.logLogSlope(List.of(new W2Sweep.Point(10, 1)))));
    assertTrue(
        Double.isNaN(
            W2Sweep.logLogSlope(List.of(new W2Sweep.Point(10, 1), new W2Sweep.Point(20, 0)))));
  }
}
