package io.scoreflow.model;

import ai.djl.training.initializer.Initializer;
import java.nio.charset.StandardCharsets;

/** An initializer drawing from its own seeded stream, so that a network is reproducible. */
interface SeededInitializer extends Initializer {

  /** The same distribution with another seed. */
  SeededInitializer withSeed(long seed);

  /** A well-mixed 64-bit seed from a base seed and a parameter name (FNV-1a, then SplitMix). */
  static long mix(long seed, String name) {
    long h = 0xcbf29ce484222325L;
    for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
      h = (h ^ (b & 0xff)) * 0x100000001b3L;
    }
    long z = seed + 0x9e3779b97f4a7c15L * (h | 1);
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}
