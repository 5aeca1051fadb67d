/**
 * Benchmark code, run only by the {@code bench} commands: the ring all-reduce in separate processes
 * ({@link io.scoreflow.bench.AllReduceBenchmark}, {@link io.scoreflow.bench.RingWorkerProcess},
 * {@link io.scoreflow.bench.RingWorkerMain}), and its same-run references, raw loopback TCP ({@link
 * io.scoreflow.bench.LoopbackTcp}) and the same ring schedule over plain sockets ({@link
 * io.scoreflow.bench.PlainSocketRing}). No production code imports it (the layout test says so).
 */
package io.scoreflow.bench;
