/**
 * The coordinator of distributed training: the {@link io.scoreflow.coordinator.Coordinator} actor
 * (registrations, ring formation, generations, progress and checksum agreement, deadlines), the
 * protocol workers must accept ({@link io.scoreflow.coordinator.WorkerProtocol}), and the Pekko
 * node configuration every cluster node uses ({@link io.scoreflow.coordinator.ClusterNodes}).
 * Messages between nodes implement {@link io.scoreflow.coordinator.CborSerializable}.
 */
package io.scoreflow.coordinator;
