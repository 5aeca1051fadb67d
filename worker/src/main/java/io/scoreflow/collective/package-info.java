/**
 * The gradient exchange between workers: a chunked, pipelined ring all-reduce of one flat float32
 * buffer over gRPC ({@code scoreflow/v1/collective.proto}).
 *
 * <p>{@link io.scoreflow.collective.RingEndpoint} is a worker's server side (one per process, for
 * its lifetime); {@link io.scoreflow.collective.RingAllReduce} is one membership generation of the
 * ring (rank, world size, peers) and runs the steps; {@link
 * io.scoreflow.collective.RingGradientReducer} adapts it to the trainer's {@code GradientReducer};
 * {@link io.scoreflow.collective.RingExchange} plugs the ring into the worker's exchange seam.
 * {@link io.scoreflow.collective.AllReduceBenchmark} measures its bus bandwidth against raw TCP on
 * loopback. The core works on plain {@code float[]}, so it is testable without DJL.
 */
package io.scoreflow.collective;
