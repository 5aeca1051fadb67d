/**
 * The metrics every scoreflow node exports, declared once, with the names the Grafana dashboard
 * queries. Registered into an injected {@code PrometheusRegistry}; serving them over HTTP is the
 * job of the node that owns a socket.
 */
package io.scoreflow.metrics;
