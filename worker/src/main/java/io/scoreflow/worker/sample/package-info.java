/**
 * The sampler actor of a worker node: pulls a checkpoint through the checkpoint service, samples
 * from it with {@link io.scoreflow.sample.SampleJob} and tells the evaluator where the samples are.
 */
package io.scoreflow.worker.sample;
