/**
 * The star exchange: gather to rank 0, average, broadcast, over plain TCP ({@link
 * io.scoreflow.worker.exchange.star.StarExchange}, one {@link
 * io.scoreflow.worker.exchange.star.Connection} per peer). Obviously correct and bit-identical on
 * every rank, but rank 0 moves (N-1) times the gradient each step: for tests, small rings, and as
 * the reference the ring is checked against.
 */
package io.scoreflow.worker.exchange.star;
