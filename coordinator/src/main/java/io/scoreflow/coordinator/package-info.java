/**
 * The coordinator of distributed training: the {@link io.scoreflow.coordinator.Coordinator} actor
 * (registrations, ring formation, generations, progress and checksum agreement, deadlines), its
 * node ({@link io.scoreflow.coordinator.CoordinatorNode}) and the job journal. What it exchanges
 * with workers is the contract in {@code io.scoreflow.proto.cluster}.
 */
package io.scoreflow.coordinator;
