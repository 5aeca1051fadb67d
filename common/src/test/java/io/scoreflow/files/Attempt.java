package io.scoreflow.files;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.scoreflow.InvalidInputException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * One parse of a possibly broken file, measured: the only acceptable outcomes are a result or one
 * {@link InvalidInputException} (the documented refusal of every reader; {@link
 * InvalidFileException} for those in this package) whose single line starts with the file; any
 * other exception, an {@link OutOfMemoryError}, more heap than the caller allows or more time than
 * {@link #TIME_LIMIT} fails the test. Heap is counted by the JVM per thread, so a parser that
 * allocates what a header claims is caught even when the allocation happens to succeed.
 */
public record Attempt<T>(T result, InvalidInputException refusal, long heapBytes, Duration time) {
  /** Far above any honest parse of these small files, far below the 15 s of the reported case. */
  public static final Duration TIME_LIMIT = Duration.ofSeconds(5);

  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  public boolean loaded() {
    return refusal == null;
  }

  /**
   * Runs {@code parse} on {@code file}, allowing it {@code maxHeap} bytes of heap.
   *
   * @param messageStart what the refusal's message must start with, after the file name
   */
  public static <T> Attempt<T> of(Path file, String messageStart, long maxHeap, Callable<T> parse) {
    long thread = Thread.currentThread().getId();
    long heapBefore = THREADS.getThreadAllocatedBytes(thread);
    long start = System.nanoTime();
    T result = null;
    InvalidInputException refusal = null;
    try {
      result = parse.call();
    } catch (InvalidInputException e) {
      refusal = e;
    } catch (Throwable e) { // including OutOfMemoryError: that is the bug being looked for
      fail("parsing " + file + " threw " + e + " instead of InvalidInputException", e);
    }
    Duration time = Duration.ofNanos(System.nanoTime() - start);
    long heap = THREADS.getThreadAllocatedBytes(thread) - heapBefore;
    assertTrue(
        time.compareTo(TIME_LIMIT) < 0, "parsing " + file + " took " + time + ": " + refusal);
    assertTrue(
        heap <= maxHeap,
        "parsing "
            + file
            + " allocated "
            + heap
            + " bytes of heap, allowed "
            + maxHeap
            + ": "
            + refusal);
    if (refusal != null) {
      String message = refusal.getMessage();
      assertTrue(message.startsWith(file + messageStart), message);
      assertFalse(message.contains("\n") || message.contains("\r"), "one line: " + message);
      assertTrue(message.length() < 1000, "a line, not a dump: " + message);
      assertFalse(message.contains("Exception"), "no exception names for users: " + message);
    }
    return new Attempt<>(result, refusal, heap, time);
  }
}
