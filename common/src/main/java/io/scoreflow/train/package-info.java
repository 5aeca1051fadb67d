/**
 * Training maths: denoising score matching for any forward SDE, the network parametrisations, Adam
 * with warm-up and global-norm clipping, the EMA, and the single-process training loop.
 *
 * <p>Everything that updates parameters works on one flat vector of all trainable parameters, so
 * that the data-parallel gradient exchange, the clipping norm, Adam and the EMA are each a handful
 * of large ops instead of one op per tensor.
 */
package io.scoreflow.train;
