/**
 * Sample quality of a distributed run while it trains: the {@link
 * io.scoreflow.coordinator.eval.Evaluator} actor (on the node that holds the checkpoints) notices
 * each new complete checkpoint, asks a sampler actor on a worker node ({@link
 * io.scoreflow.proto.cluster.SamplerProtocol}) to pull it through the checkpoint service and sample
 * from it, then measures the samples ({@link io.scoreflow.eval.SampleQuality}) and exports the
 * result as metrics.
 */
package io.scoreflow.coordinator.eval;
