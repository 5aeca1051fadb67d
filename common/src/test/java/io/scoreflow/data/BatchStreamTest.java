package io.scoreflow.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.scoreflow.InvalidInputException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BatchStreamTest {

  /** Tiny images whose pixel values encode (index, position), so any mix-up shows. */
  static final class NumberedImages implements Dataset {
    private final SampleShape.Image shape;
    private final int size;

    NumberedImages(int size, int channels, int height, int width) {
      this.size = size;
      this.shape = SampleShape.image(channels, height, width);
    }

    static float value(int index, int position) {
      return index * 1000 + position;
    }

    @Override
    public String description() {
      return "numbered images";
    }

    @Override
    public SampleShape shape() {
      return shape;
    }

    @Override
    public int size() {
      return size;
    }

    @Override
    public void read(int index, float[] dest, int offset) {
      for (int p = 0; p < shape.size(); p++) {
        dest[offset + p] = value(index, p);
      }
    }
  }

  static final Dataset IMAGES = new NumberedImages(103, 2, 3, 4);

  static BatchStream.Builder stream(int batch) {
    return BatchStream.builder().dataset(IMAGES).globalBatchSize(batch).seed(17);
  }

  static List<Batch> take(BatchStream s, int n) {
    List<Batch> batches = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Batch b = s.next();
      batches.add(b);
    }
    return batches;
  }

  @Test
  void eachEpochIsAPermutationWithoutTheRemainder() {
    BatchStream s = stream(10).build();
    assertEquals(10, s.batchesPerEpoch());
    Set<Integer> seen = new HashSet<>();
    for (Batch b : take(s, 10)) {
      assertEquals(0, b.cursor().epoch());
      for (int i : b.indices()) {
        assertTrue(seen.add(i), "index " + i + " twice in one epoch");
      }
    }
    assertEquals(100, seen.size());
    // The 3 samples left over do not make a batch: the cursor moved to the next epoch.
    assertEquals(new DataCursor(1, 0), s.cursor());
    int[] sorted = s.permutation(0).clone();
    Arrays.sort(sorted);
    for (int i = 0; i < sorted.length; i++) {
      assertEquals(i, sorted[i]);
    }
  }

  @Test
  void batchesHoldTheDatasetSamplesInOrder() {
    Batch b = stream(5).build().next();
    assertEquals(5, b.count());
    int size = IMAGES.shape().size();
    for (int i = 0; i < 5; i++) {
      for (int p = 0; p < size; p++) {
        assertEquals(NumberedImages.value(b.indices()[i], p), b.data()[i * size + p]);
      }
    }
  }

  @Test
  void sameSeedSameBatchesOtherSeedOtherOrder() {
    List<Batch> a = take(stream(10).build(), 25);
    List<Batch> b = take(stream(10).build(), 25);
    for (int i = 0; i < a.size(); i++) {
      assertArrayEquals(a.get(i).indices(), b.get(i).indices());
      assertArrayEquals(a.get(i).data(), b.get(i).data());
    }
    Batch other = stream(10).seed(18).build().next();
    assertFalse(Arrays.equals(a.get(0).indices(), other.indices()));
  }

  @Test
  void everyEpochHasItsOwnOrder() {
    BatchStream s = stream(100).build();
    int[] epoch0 = s.next().indices();
    int[] epoch1 = s.next().indices();
    int[] epoch2 = s.next().indices();
    assertFalse(Arrays.equals(epoch0, epoch1));
    assertFalse(Arrays.equals(epoch1, epoch2));
    assertFalse(Arrays.equals(epoch0, epoch2));
  }

  @Test
  void shardsOfNWorkersConcatenateToTheBatchOfOne() {
    int global = 12;
    int steps = 30; // crosses three epoch boundaries
    List<Batch> single = take(stream(global).build(), steps);
    for (int world : new int[] {2, 3, 4, 6, 12}) {
      List<List<Batch>> shards = new ArrayList<>();
      for (int rank = 0; rank < world; rank++) {
        BatchStream s = stream(global).shard(rank, world).build();
        assertEquals(global / world, s.localBatchSize());
        shards.add(take(s, steps));
      }
      for (int step = 0; step < steps; step++) {
        int[] joined = new int[0];
        float[] data = new float[0];
        for (int rank = 0; rank < world; rank++) {
          Batch shard = shards.get(rank).get(step);
          assertEquals(single.get(step).cursor(), shard.cursor());
          joined = concat(joined, shard.indices());
          data = concat(data, shard.data());
        }
        assertArrayEquals(single.get(step).indices(), joined, "world " + world + " step " + step);
        assertArrayEquals(single.get(step).data(), data);
      }
    }
  }

  @Test
  void shardingHoldsWithFlipsToo() {
    List<Batch> single = take(stream(8).randomFlip(true).build(), 20);
    List<Batch> rank1 = take(stream(8).randomFlip(true).shard(1, 2).build(), 20);
    for (int step = 0; step < 20; step++) {
      float[] whole = single.get(step).data();
      float[] secondHalf = Arrays.copyOfRange(whole, whole.length / 2, whole.length);
      assertArrayEquals(secondHalf, rank1.get(step).data());
    }
  }

  @Test
  void resumingFromAStoredCursorReplaysTheUninterruptedRun() {
    List<Batch> uninterrupted = take(stream(8).randomFlip(true).build(), 40);
    for (int stopAfter : new int[] {0, 1, 11, 12, 13, 25}) {
      BatchStream first = stream(8).randomFlip(true).build();
      take(first, stopAfter);
      DataCursor stored = first.cursor();
      // A fresh process: new stream, new dataset object, only the cursor carried over.
      BatchStream resumed = stream(8).randomFlip(true).start(stored).build();
      for (int step = stopAfter; step < 40; step++) {
        Batch b = resumed.next();
        assertEquals(uninterrupted.get(step).cursor(), b.cursor());
        assertArrayEquals(uninterrupted.get(step).indices(), b.indices());
        assertArrayEquals(uninterrupted.get(step).data(), b.data());
      }
    }
  }

  @Test
  void seekingToABatchCursorReplaysThatBatch() {
    BatchStream s = stream(10).build();
    take(s, 3);
    Batch fourth = s.next();
    take(s, 20);
    s.seek(fourth.cursor());
    assertArrayEquals(fourth.indices(), s.next().indices());
  }

  @Test
  void cursorCountsSamplesSoTheBatchSizeMayChange() {
    BatchStream s = stream(10).build();
    take(s, 2);
    DataCursor stored = s.cursor();
    assertEquals(new DataCursor(0, 20), stored);
    int[] permutation = s.permutation(0).clone();
    Batch b = stream(5).start(stored).build().next();
    assertArrayEquals(Arrays.copyOfRange(permutation, 20, 25), b.indices());
  }

  @Test
  void flipMirrorsRowsOfEveryChannelForAboutHalfTheSamples() {
    SampleShape.Image shape = (SampleShape.Image) IMAGES.shape();
    BatchStream s = stream(100).randomFlip(true).build();
    int flips = 0;
    int total = 0;
    for (int epoch = 0; epoch < 10; epoch++) {
      Batch b = s.next();
      for (int i = 0; i < b.count(); i++) {
        int index = b.indices()[i];
        float[] original = IMAGES.get(index);
        float[] got = Arrays.copyOfRange(b.data(), i * 24, (i + 1) * 24);
        assertEquals(BatchStream.flips(17, epoch, index), b.flipped()[i]);
        if (b.flipped()[i]) {
          flips++;
          for (int c = 0; c < 2; c++) {
            for (int y = 0; y < 3; y++) {
              for (int x = 0; x < 4; x++) {
                int at = c * 12 + y * shape.width();
                assertEquals(original[at + x], got[at + shape.width() - 1 - x]);
              }
            }
          }
        } else {
          assertArrayEquals(original, got);
        }
        total++;
      }
    }
    // 1000 fair coins: 500 ± 16.
    assertEquals(500, flips, 60, "flips " + flips + " of " + total);
  }

  @Test
  void flipOfASampleChangesWithTheEpoch() {
    int differ = 0;
    for (int index = 0; index < 200; index++) {
      differ += BatchStream.flips(1, 0, index) != BatchStream.flips(1, 1, index) ? 1 : 0;
    }
    assertTrue(differ > 60 && differ < 140, "flips that changed: " + differ);
  }

  @Test
  void noFlipUnlessAsked() {
    Batch b = stream(100).build().next();
    for (int i = 0; i < b.count(); i++) {
      assertFalse(b.flipped()[i]);
      assertArrayEquals(
          IMAGES.get(b.indices()[i]), Arrays.copyOfRange(b.data(), i * 24, i * 24 + 24));
    }
  }

  @Test
  void vectorsStreamToo() {
    GaussianData g = GaussianData.builder().dimension(3).size(50).seed(2).build();
    BatchStream s = BatchStream.builder().dataset(g).globalBatchSize(10).build();
    Batch b = s.next();
    assertEquals(new ai.djl.ndarray.types.Shape(10, 3), b.shape());
    assertArrayEquals(g.get(b.indices()[4]), Arrays.copyOfRange(b.data(), 12, 15));
  }

  @Test
  void reusedBufferIsFilledAndReturned() {
    BatchStream s = stream(10).build();
    float[] buffer = new float[s.batchFloats()];
    Batch b = s.next(buffer);
    assertTrue(b.data() == buffer);
    assertThrows(IllegalArgumentException.class, () -> s.next(new float[3]));
  }

  @Test
  void batchBecomesAnNDArrayOfShapeNchw() {
    Batch b = stream(6).build().next();
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray array = b.toNDArray(manager);
      assertEquals(new ai.djl.ndarray.types.Shape(6, 2, 3, 4), array.getShape());
      assertArrayEquals(b.data(), array.toFloatArray());
      // A reused buffer longer than the batch: only the batch becomes the array.
      BatchStream s = stream(6).build();
      float[] roomy = new float[s.batchFloats() + 50];
      Batch c = s.next(roomy);
      NDArray second = c.toNDArray(manager);
      assertEquals(new ai.djl.ndarray.types.Shape(6, 2, 3, 4), second.getShape());
      assertArrayEquals(Arrays.copyOf(roomy, s.batchFloats()), second.toFloatArray());
    }
  }

  @Test
  void configurationMistakesAreNamed() {
    assertEquals(
        "batch size 10 is not divisible by the 4 workers (each must get an equal shard)",
        assertThrows(InvalidInputException.class, () -> stream(10).shard(0, 4).build())
            .getMessage());
    assertEquals(
        "batch size 200 is larger than the 103 samples of numbered images",
        assertThrows(InvalidInputException.class, () -> stream(200).build()).getMessage());
    assertEquals(
        "rank 4 is outside 0..3 for a world of 4 workers",
        assertThrows(InvalidInputException.class, () -> stream(8).shard(4, 4).build())
            .getMessage());
    assertThrows(InvalidInputException.class, () -> stream(0).build());
    GaussianData vectors = GaussianData.builder().dimension(3).size(50).build();
    InvalidInputException e =
        assertThrows(
            InvalidInputException.class,
            () ->
                BatchStream.builder().dataset(vectors).globalBatchSize(5).randomFlip(true).build());
    assertTrue(e.getMessage().startsWith("random flip needs images"), e.getMessage());
  }

  @Test
  void cursorFromAnotherDatasetIsRefused() {
    InvalidInputException e =
        assertThrows(
            InvalidInputException.class, () -> stream(10).start(new DataCursor(3, 5000)).build());
    assertTrue(e.getMessage().startsWith("data cursor (epoch 3, sample 5000) is beyond"));
    assertThrows(InvalidInputException.class, () -> new DataCursor(-1, 0));
    assertThrows(InvalidInputException.class, () -> new DataCursor(0, -1));
  }

  private static int[] concat(int[] a, int[] b) {
    int[] c = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }

  private static float[] concat(float[] a, float[] b) {
    float[] c = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }
}
