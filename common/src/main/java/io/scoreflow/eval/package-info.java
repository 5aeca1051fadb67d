/**
 * Evaluation maths: Gaussian fits of feature sets ({@link io.scoreflow.eval.GaussianStats}), the
 * Fréchet distance between two fits, which for Gaussians is also the squared Wasserstein-2 distance
 * ({@link io.scoreflow.eval.FrechetDistance}), the safetensors files that hold features or cached
 * statistics ({@link io.scoreflow.eval.StatsFiles}), and sample quality during training ({@link
 * io.scoreflow.eval.TrainingEvaluation}: W2 on synthetic data, the Fréchet distance in the {@link
 * io.scoreflow.eval.PooledPixels} fallback space for images).
 */
package io.scoreflow.eval;
