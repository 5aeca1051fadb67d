package io.scoreflow.worker.exchange.ring;

import io.scoreflow.proto.v1.Phase;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The order of a ring all-reduce for one rank: which chunk goes out or comes in at each position,
 * and which received chunk each outgoing chunk waits for.
 *
 * <p>The buffer is cut into {@code world} segments of {@code elements * i / world} boundaries
 * (lengths differ by at most one) and each segment into chunks of {@code chunkElements}. Over
 * {@code 2 (world - 1)} ring steps {@code t}, rank {@code r} sends segment {@code (r - t) mod
 * world} and receives segment {@code (r - t - 1) mod world}; the first {@code world - 1} steps are
 * reduce-scatter (add what arrives), the rest all-gather (copy it). The segment sent at step {@code
 * t} is the one received at step {@code t - 1}, so chunk {@code c} can leave as soon as chunk
 * {@code c} of the previous step has arrived: that is the pipelining. At the end of reduce-scatter
 * rank {@code r} owns the fully reduced segment {@code (r + 1) mod world}.
 */
public final class RingSchedule {

  /** One message of the schedule: a chunk of a segment at a ring step. */
  public record Slot(int step, int segment, int chunk, int offset, int length) {
    Phase phase(int world) {
      return step < world - 1 ? Phase.REDUCE_SCATTER : Phase.ALL_GATHER;
    }
  }

  private final int world;
  private final int rank;
  private final int elements;
  private final int chunkElements;
  private final List<Slot> sends;
  private final List<Slot> receives;
  private final int[] sendWaitsFor;

  public RingSchedule(int world, int rank, int elements, int chunkElements) {
    if (world < 1 || rank < 0 || rank >= world) {
      throw new IllegalArgumentException(
          "rank must be in [0, world), got rank " + rank + " of " + world);
    }
    if (elements < 0 || chunkElements < 1) {
      throw new IllegalArgumentException(
          "elements must be >= 0 and chunkElements >= 1, got " + elements + ", " + chunkElements);
    }
    this.world = world;
    this.rank = rank;
    this.elements = elements;
    this.chunkElements = chunkElements;
    List<Slot> out = new ArrayList<>();
    List<Slot> in = new ArrayList<>();
    List<Integer> waits = new ArrayList<>();
    int[] firstReceiveOfStep = new int[steps() + 1];
    for (int t = 0; t < steps(); t++) {
      firstReceiveOfStep[t] = in.size();
      addChunks(in, t, recvSegment(t));
      int sendStart = out.size();
      addChunks(out, t, sendSegment(t));
      for (int i = sendStart; i < out.size(); i++) {
        // Step 0 sends this rank's own data; later steps forward what arrived one step earlier.
        waits.add(t == 0 ? -1 : firstReceiveOfStep[t - 1] + out.get(i).chunk());
      }
    }
    this.sends = Collections.unmodifiableList(out);
    this.receives = Collections.unmodifiableList(in);
    this.sendWaitsFor = waits.stream().mapToInt(Integer::intValue).toArray();
  }

  private void addChunks(List<Slot> slots, int step, int segment) {
    int start = segmentStart(segment);
    int length = segmentStart(segment + 1) - start;
    for (int c = 0, off = 0; off < length; c++, off += chunkElements) {
      slots.add(new Slot(step, segment, c, start + off, Math.min(chunkElements, length - off)));
    }
  }

  public int segmentStart(int segment) {
    return (int) ((long) elements * segment / world);
  }

  public int steps() {
    return 2 * (world - 1);
  }

  public int sendSegment(int step) {
    return Math.floorMod(rank - step, world);
  }

  public int recvSegment(int step) {
    return Math.floorMod(rank - step - 1, world);
  }

  /** The last reduce-scatter step: a chunk received then is complete and owned by this rank. */
  public int lastReduceStep() {
    return world - 2;
  }

  public int world() {
    return world;
  }

  public int rank() {
    return rank;
  }

  public int elements() {
    return elements;
  }

  public int chunkElements() {
    return chunkElements;
  }

  public List<Slot> sends() {
    return sends;
  }

  public List<Slot> receives() {
    return receives;
  }

  /**
   * The index in {@link #receives()} that must have been applied before send {@code i} may leave,
   * or -1 if it waits for nothing.
   */
  public int sendWaitsFor(int i) {
    return sendWaitsFor[i];
  }
}
