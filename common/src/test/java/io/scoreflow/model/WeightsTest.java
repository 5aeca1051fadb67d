package io.scoreflow.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import io.scoreflow.InvalidInputException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WeightsTest {
  static final String CONV = "all_modules.4.Conv_0.weight";

  static ScoreNetConfig tiny(long seed) {
    return ScoreNetConfig.tinyNcsnpp(16, 1).toBuilder().seed(seed).build();
  }

  @Test
  void saveThenLoadRestoresEveryTensorAndTheFunction(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("w.safetensors");
    try (NDManager m = NDManager.newBaseManager()) {
      Ncsnpp a = ScoreNetworks.build(tiny(1), m);
      Ncsnpp b = ScoreNetworks.build(tiny(2), m);
      NDArray x = m.randomUniform(0, 1, new Shape(2, 1, 16, 16));
      NDArray cond = m.create(new float[] {0.05f, 7f});
      NDArray outA = ScoreNetworks.forward(a, x, cond);

      // b's parameter store caches the arrays before the load: loading must update them in place.
      ParameterStore psB = new ParameterStore(m, false);
      NDArray before = b.apply(psB, x, cond, false);
      assertTrue(before.sub(outA).abs().max().getFloat() > 0, "different seeds, same output");

      Weights.save(a, file);
      Weights.load(b, file);

      for (Map.Entry<String, Parameter> e : a.stateDict().entrySet()) {
        NDArray other = b.stateDict().get(e.getKey()).getArray();
        assertArrayEquals(
            e.getValue().getArray().toFloatArray(), other.toFloatArray(), 0f, e.getKey());
      }
      assertArrayEquals(a.buffer("sigmas"), b.buffer("sigmas"));
      NDArray after = b.apply(psB, x, cond, false);
      assertArrayEquals(outA.toFloatArray(), after.toFloatArray(), 0f);

      Set<String> names = Weights.read(m, file).keySet();
      Set<String> expected = new HashSet<>(a.stateDict().keySet());
      expected.add("sigmas");
      assertEquals(expected, names);
      // Parameter arrays keep their own short names after a save.
      assertEquals("weight", a.stateDict().get(CONV).getArray().getName());
    }
  }

  @Test
  void sameSeedSameWeightsDifferentNamesDifferentStreams() {
    try (NDManager m = NDManager.newBaseManager()) {
      Ncsnpp a = ScoreNetworks.build(tiny(7), m);
      Ncsnpp b = ScoreNetworks.build(tiny(7), m);
      float[] wa = a.stateDict().get(CONV).getArray().toFloatArray();
      assertArrayEquals(wa, b.stateDict().get(CONV).getArray().toFloatArray(), 0f);
      // Two convolutions of equal shape must not receive the same values.
      float[] other = a.stateDict().get("all_modules.5.Conv_0.weight").getArray().toFloatArray();
      assertEquals(wa.length, other.length);
      assertFalse(java.util.Arrays.equals(wa, other));
    }
  }

  private static InvalidInputException loadBroken(
      Path dir, java.util.function.Consumer<Map<String, NDArray>> breakIt) throws Exception {
    Path good = dir.resolve("good.safetensors");
    Path bad = dir.resolve("bad.safetensors");
    try (NDManager m = NDManager.newBaseManager()) {
      Ncsnpp net = ScoreNetworks.build(tiny(3), m);
      Weights.save(net, good);
      Map<String, NDArray> tensors = new LinkedHashMap<>(Weights.read(m, good));
      breakIt.accept(tensors);
      Weights.write(tensors, bad);
      Ncsnpp target = ScoreNetworks.build(tiny(4), m);
      float[] before = target.stateDict().get(CONV).getArray().toFloatArray();
      InvalidInputException e =
          assertThrows(InvalidInputException.class, () -> Weights.load(target, bad));
      // A refused file changes nothing.
      assertArrayEquals(before, target.stateDict().get(CONV).getArray().toFloatArray(), 0f);
      return e;
    }
  }

  @Test
  void missingTensorIsOneClearError(@TempDir Path dir) throws Exception {
    InvalidInputException e = loadBroken(dir, t -> t.remove(CONV));
    assertTrue(e.getMessage().contains("missing tensor '" + CONV + "'"), e.getMessage());
    assertTrue(e.getMessage().contains("1 problem"), e.getMessage());
  }

  @Test
  void wrongShapeIsOneClearError(@TempDir Path dir) throws Exception {
    InvalidInputException e =
        loadBroken(
            dir,
            t -> {
              NDArray old = t.get(CONV);
              t.put(CONV, old.getManager().zeros(new Shape(3, 3)));
            });
    assertTrue(e.getMessage().contains("tensor '" + CONV + "' has shape (3, 3)"), e.getMessage());
  }

  @Test
  void extraTensorIsOneClearError(@TempDir Path dir) throws Exception {
    InvalidInputException e =
        loadBroken(
            dir,
            t -> {
              NDArray any = t.get(CONV);
              t.put("all_modules.99.weight", any.getManager().zeros(new Shape(2)));
            });
    assertTrue(e.getMessage().contains("unexpected tensor 'all_modules.99.weight'"));
  }

  @Test
  void missingFileIsAnInputError(@TempDir Path dir) {
    try (NDManager m = NDManager.newBaseManager()) {
      Ncsnpp net = ScoreNetworks.build(tiny(3), m);
      InvalidInputException e =
          assertThrows(
              InvalidInputException.class,
              () -> Weights.load(net, dir.resolve("nope.safetensors")));
      assertTrue(e.getMessage().contains("nope.safetensors"));
    }
  }

  @Test
  void truncatedFileIsAnInputError(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("w.safetensors");
    try (NDManager m = NDManager.newBaseManager()) {
      Ncsnpp net = ScoreNetworks.build(tiny(3), m);
      Weights.save(net, file);
      byte[] bytes = java.nio.file.Files.readAllBytes(file);
      java.nio.file.Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 10));
      InvalidInputException e =
          assertThrows(InvalidInputException.class, () -> Weights.load(net, file));
      assertTrue(e.getMessage().contains("not a readable safetensors file"), e.getMessage());
    }
  }
}
