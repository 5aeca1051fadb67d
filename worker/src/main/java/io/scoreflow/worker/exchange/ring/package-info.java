/**
 * The ring exchange: a chunked, pipelined ring all-reduce of one flat float32 buffer over gRPC
 * ({@code scoreflow/v1/collective.proto}).
 *
 * <p>{@link io.scoreflow.worker.exchange.ring.RingEndpoint} is a worker's server side (one per
 * process, for its lifetime); {@link io.scoreflow.worker.exchange.ring.RingAllReduce} is one
 * membership generation of the ring (rank, world size, peers) and runs the steps; {@link
 * io.scoreflow.worker.exchange.ring.RingGradientReducer} adapts it to the trainer's {@code
 * GradientReducer}; {@link io.scoreflow.worker.exchange.ring.RingExchange} is the ring as the
 * worker's {@code ExchangeServer}. The core works on plain {@code float[]}, so it is testable
 * without DJL. Its benchmark ({@code bench allreduce}) lives in the distribution's {@code
 * io.scoreflow.bench}.
 */
package io.scoreflow.worker.exchange.ring;
