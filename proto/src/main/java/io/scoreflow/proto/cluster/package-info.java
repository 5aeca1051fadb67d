/**
 * The Pekko message protocols between cluster nodes: coordinator and workers ({@link
 * io.scoreflow.proto.cluster.CoordinatorProtocol}, {@link
 * io.scoreflow.proto.cluster.WorkerProtocol}, {@link io.scoreflow.proto.cluster.RingMember}),
 * evaluator and samplers ({@link io.scoreflow.proto.cluster.SamplerProtocol}, {@link
 * io.scoreflow.proto.cluster.EvaluatorProtocol}), and the Pekko configuration every node shares
 * ({@link io.scoreflow.proto.cluster.ClusterNodes}). They live beside the gRPC contracts ({@code
 * io.scoreflow.proto.v1}) so that a worker and a coordinator meet only here: neither module imports
 * the other.
 */
package io.scoreflow.proto.cluster;
