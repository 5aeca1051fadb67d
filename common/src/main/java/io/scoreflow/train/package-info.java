/**
 * Training maths: denoising score matching for any forward SDE, Adam with warm-up and global-norm
 * clipping, the EMA, and the training loop of one process or one replica. What training shares with
 * sampling and evaluation (the run directory, building a job from its config, how a network's
 * output becomes a score) is in {@link io.scoreflow.run}.
 *
 * <p>Everything that updates parameters works on one flat vector of all trainable parameters, so
 * that the data-parallel gradient exchange, the clipping norm, Adam and the EMA are each a handful
 * of large ops instead of one op per tensor.
 */
package io.scoreflow.train;
