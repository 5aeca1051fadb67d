/**
 * Training data and sample outputs.
 *
 * <p>A {@link io.scoreflow.data.Dataset} is a fixed-shape collection of float samples read by
 * index: CIFAR-10 binary batches ({@link io.scoreflow.data.Cifar10}), MNIST-style IDX files ({@link
 * io.scoreflow.data.IdxImages}), a folder of PNGs ({@link io.scoreflow.data.PngFolder}), and
 * synthetic Gaussians ({@link io.scoreflow.data.GaussianData}, {@link
 * io.scoreflow.data.GaussianMixtureData}) whose every sample is a pure function of (seed, index).
 * Image values are in [0, 1], as in score_sde; mapping to [-1, 1] ({@code centered}) is the model's
 * scaler's business, not the data's.
 *
 * <p>A {@link io.scoreflow.data.BatchStream} turns a dataset into the training batches of one
 * data-parallel worker: a per-epoch permutation and random flips that depend only on (seed, epoch,
 * index), shards that partition every global batch, and a {@link io.scoreflow.data.DataCursor} that
 * a checkpoint stores so that a resumed run sees the batches an uninterrupted run would have seen.
 *
 * <p>{@link io.scoreflow.data.ImageGrid} and {@link io.scoreflow.data.Npz} write samples out: a PNG
 * grid for eyes, numpy {@code .npz} for tools (FID statistics, notebooks); {@link
 * io.scoreflow.data.NpzWriter} streams a large sample set to npz batch by batch.
 */
package io.scoreflow.data;
