/**
 * The seam between a worker and its gradient exchange, and the fallback exchange.
 *
 * <p>A worker starts one {@link io.scoreflow.worker.exchange.ExchangeServer} when it boots (its
 * port is advertised in the worker's registration) and, for every generation of a ring, opens an
 * {@link io.scoreflow.worker.exchange.ExchangeReducer} through it ({@link
 * io.scoreflow.worker.exchange.ReducerFactory}). Which implementation runs is chosen by an {@link
 * io.scoreflow.worker.exchange.ExchangeBackend}, named by {@code io.scoreflow.worker.ExchangeKind}:
 * the gRPC ring all-reduce ({@code io.scoreflow.collective.RingExchange}, the default) or the star.
 *
 * <p>{@link io.scoreflow.worker.exchange.StarExchange} is the fallback: gather to rank 0, average,
 * broadcast, over plain TCP. Obviously correct and bit-identical on every rank, but rank 0 moves
 * (N-1) times the gradient each step: for tests, small rings, and as the reference the ring is
 * checked against.
 */
package io.scoreflow.worker.exchange;
