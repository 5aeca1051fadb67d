/**
 * A worker node: the {@link io.scoreflow.worker.WorkerNode} actor (finds the coordinator,
 * registers, relays its replica's reports), the {@link io.scoreflow.worker.TrainingReplica} that
 * trains one rank of the ring on its own thread, and {@link io.scoreflow.worker.WorkerProcess}, a
 * worker from start to exit. The gradient exchange plugs in through {@code
 * io.scoreflow.worker.exchange}.
 */
package io.scoreflow.worker;
