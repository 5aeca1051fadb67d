/**
 * Evaluation maths: Gaussian fits of feature sets ({@link io.scoreflow.eval.GaussianStats}), the
 * Fréchet distance between two fits, which for Gaussians is also the squared Wasserstein-2 distance
 * ({@link io.scoreflow.eval.FrechetDistance}), the safetensors files that hold features or cached
 * statistics ({@link io.scoreflow.eval.StatsFiles}), and the W2 of a model's samples on synthetic
 * data during training ({@link io.scoreflow.eval.SyntheticQuality}).
 */
package io.scoreflow.eval;
