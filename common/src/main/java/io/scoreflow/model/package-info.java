/**
 * Score networks as DJL blocks: the NCSN++ / DDPM++ U-Net of Song et al.'s score_sde ({@link
 * io.scoreflow.model.Ncsnpp}, configured by {@link io.scoreflow.model.ScoreNetConfig} with the
 * CIFAR-10 presets and a small CPU preset), an MLP score network for vector data ({@link
 * io.scoreflow.model.MlpScoreNet}), the layers they are built from, and their weights in
 * safetensors under the PyTorch state_dict names ({@link io.scoreflow.model.Weights}).
 *
 * <p>A network computes the raw function {@code out = net(x, cond)}; what {@code cond} and {@code
 * out} mean (time, noise level, score or noise prediction) is fixed by the configuration and
 * documented on {@link io.scoreflow.model.ScoreNetConfig}. The SDE-specific parametrisation is
 * applied by the training and sampling code, never inside the network. {@link
 * io.scoreflow.model.ScoreNetworks} is the entry point.
 */
package io.scoreflow.model;
