package io.scoreflow.ckpt;

import java.util.Map;
import java.util.TreeMap;

/**
 * The random state a resumed run needs: the job's seed and whatever small named values the caller
 * keeps besides it (an engine generator offset, a sampler's counter). Values are strings so that
 * any state (numbers, base64 bytes) survives JSON unchanged; the map is sorted so manifests are
 * byte-stable.
 */
public record RngState(long seed, Map<String, String> state) {
  public RngState {
    state = java.util.Collections.unmodifiableMap(new TreeMap<>(state));
  }

  public static RngState of(long seed) {
    return new RngState(seed, Map.of());
  }
}
