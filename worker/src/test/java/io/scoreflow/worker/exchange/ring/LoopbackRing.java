package io.scoreflow.worker.exchange.ring;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/** n endpoints and rings on 127.0.0.1 (real Netty TCP) in this JVM, closed deterministically. */
final class LoopbackRing implements AutoCloseable {

  final List<RingEndpoint> endpoints = new ArrayList<>();
  final List<RingAllReduce> rings = new ArrayList<>();
  final List<String> addresses = new ArrayList<>();
  private final ExecutorService pool;

  /** Starts n endpoints; {@link #join} builds the rings. */
  LoopbackRing(int n) {
    for (int r = 0; r < n; r++) {
      RingEndpoint e =
          RingEndpoint.start(
              RingTransport.serverBuilder(new InetSocketAddress("127.0.0.1", 0)), "w" + r);
      endpoints.add(e);
      addresses.add("127.0.0.1:" + e.port());
    }
    pool = Executors.newFixedThreadPool(n);
  }

  static LoopbackRing started(int n, int chunkBytes, WireEncoding encoding, Duration timeout) {
    LoopbackRing ring = new LoopbackRing(n);
    ring.join("job", 3, chunkBytes, encoding, timeout);
    return ring;
  }

  void join(String job, long generation, int chunkBytes, WireEncoding encoding, Duration timeout) {
    for (RingAllReduce r : rings) {
      r.close();
    }
    rings.clear();
    for (int r = 0; r < endpoints.size(); r++) {
      rings.add(
          RingAllReduce.builder()
              .endpoint(endpoints.get(r))
              .job(job)
              .generation(generation)
              .rank(r)
              .peers(addresses)
              .chunkBytes(chunkBytes)
              .encoding(encoding)
              .timeout(timeout)
              .build());
    }
  }

  /** Runs rank r's all-reduce of buffers[r] on its own thread. */
  Future<?> submit(int r, float[] buffer, long step, ReduceOp op) {
    return pool.submit(
        () -> {
          rings.get(r).allReduce(buffer, step, op);
          return null;
        });
  }

  /** Runs every rank's all-reduce concurrently and waits for all of them. */
  void allReduce(float[][] buffers, long step, ReduceOp op) throws Exception {
    List<Future<?>> futures = new ArrayList<>();
    for (int r = 0; r < buffers.length; r++) {
      futures.add(submit(r, buffers[r], step, op));
    }
    for (Future<?> f : futures) {
      f.get(60, TimeUnit.SECONDS);
    }
  }

  @Override
  public void close() throws InterruptedException {
    pool.shutdownNow();
    pool.awaitTermination(10, TimeUnit.SECONDS);
    for (RingAllReduce r : rings) {
      r.close();
    }
    for (RingEndpoint e : endpoints) {
      e.close();
    }
  }
}
