/**
 * The seam between a worker and its gradient exchange: what a worker's training step needs, and
 * nothing of how it is done.
 *
 * <p>A worker starts one {@link io.scoreflow.worker.exchange.ExchangeServer} when it boots (its
 * port is advertised in the worker's registration) and, for every generation of a ring, opens an
 * {@link io.scoreflow.worker.exchange.ExchangeReducer} through it: the trainer's {@code
 * GradientReducer} for that generation, fenced by (job, generation), closed when the generation
 * ends. Failures are {@link io.scoreflow.worker.exchange.ExchangeException}s; peers are {@link
 * io.scoreflow.worker.exchange.PeerAddress}es; {@link io.scoreflow.worker.exchange.ExchangeKind}
 * names the implementations: the gRPC ring all-reduce ({@code exchange.ring}, the default) and the
 * star ({@code exchange.star}: gather to rank 0, average, broadcast over plain TCP; the fallback
 * and the reference the ring is checked against).
 */
package io.scoreflow.worker.exchange;
