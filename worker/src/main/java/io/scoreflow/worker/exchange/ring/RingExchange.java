package io.scoreflow.worker.exchange.ring;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.grpc.StatusRuntimeException;
import io.scoreflow.security.TransportSecurity;
import io.scoreflow.worker.exchange.ExchangeException;
import io.scoreflow.worker.exchange.ExchangeReducer;
import io.scoreflow.worker.exchange.ExchangeServer;
import io.scoreflow.worker.exchange.PeerAddress;
import io.scoreflow.worker.exchange.Wire;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ring all-reduce behind the worker's exchange seam: one {@link RingEndpoint} for the worker's
 * life, one {@link RingAllReduce} per generation of the ring. Opening a generation joins the
 * endpoint (an older generation is refused, a newer one aborts the old step in flight) and waits
 * until the right neighbour answers as the expected rank of the same generation, so a reducer that
 * opened is connected; every step then has the exchange deadline.
 */
public final class RingExchange implements ExchangeServer {

  private static final Logger LOG = LoggerFactory.getLogger(RingExchange.class);

  private final RingEndpoint endpoint;
  private final Duration deadline;
  private final TransportSecurity security;
  private final Set<AutoCloseable> open = ConcurrentHashMap.newKeySet();

  private RingExchange(RingEndpoint endpoint, Duration deadline, TransportSecurity security) {
    this.endpoint = endpoint;
    this.deadline = deadline;
    this.security = security;
  }

  /**
   * Serves worker {@code workerId}'s side of the ring on {@code bindHost}:{@code port} ({@code 0}:
   * any free port), protected by {@code security}.
   */
  public static RingExchange start(
      String workerId, String bindHost, int port, Duration deadline, TransportSecurity security) {
    RingEndpoint endpoint =
        RingEndpoint.start(
            RingTransport.serverBuilder(new InetSocketAddress(bindHost, port), security), workerId);
    return new RingExchange(endpoint, deadline, security);
  }

  @Override
  public int port() {
    return endpoint.port();
  }

  @Override
  public ExchangeReducer open(
      String job, long generation, int rank, List<PeerAddress> ring, Wire wire) {
    int world = ring.size();
    if (rank < 0 || rank >= world) {
      throw new IllegalArgumentException("rank " + rank + " is outside a ring of " + world);
    }
    if (world == 1) {
      return ExchangeReducer.local();
    }
    long until = System.nanoTime() + deadline.toNanos();
    PeerAddress right = ring.get((rank + 1) % world);
    RingAllReduce allReduce;
    try {
      allReduce =
          RingAllReduce.builder()
              .endpoint(endpoint)
              .job(job)
              .generation(generation)
              .rank(rank)
              .peers(ring.stream().map(p -> p.host() + ":" + p.port()).toList())
              .peerIds(ring.stream().map(PeerAddress::workerId).toList())
              .security(security)
              .timeout(deadline)
              .encoding(wire.format() == Wire.Format.BF16 ? WireEncoding.BF16 : WireEncoding.FP32)
              .build();
    } catch (StatusRuntimeException e) {
      throw new ExchangeException(
          "job " + job + " generation " + generation + ": " + e.getStatus().getDescription(), e);
    }
    try {
      allReduce.awaitRightNeighbour(right.workerId(), until);
      LOG.info(
          "job {} generation {}: rank {} of {} connected to {} ({} on the wire)",
          job,
          generation,
          rank,
          world,
          right,
          wire);
    } catch (StatusRuntimeException e) {
      allReduce.close();
      throw new ExchangeException(
          "could not connect the ring exchange to " + right + ": " + e.getStatus().getDescription(),
          e);
    }
    Reducer reducer = new Reducer(allReduce, wire.errorFeedback());
    open.add(reducer);
    return reducer;
  }

  /** Stops every open generation, then the endpoint; idempotent. */
  @Override
  public void close() {
    for (AutoCloseable c : open) {
      try {
        c.close();
      } catch (Exception e) {
        LOG.debug("closing a ring generation: {}", e.getMessage());
      }
    }
    open.clear();
    endpoint.close();
  }

  /** One generation: the trainer's reducer, failures as {@link ExchangeException}. */
  private final class Reducer implements ExchangeReducer {
    private final RingAllReduce ring;
    private final RingGradientReducer mean;

    Reducer(RingAllReduce ring, boolean errorFeedback) {
      this.ring = ring;
      this.mean = new RingGradientReducer(ring, errorFeedback);
    }

    @Override
    public void checkpointed() {
      mean.checkpointed();
    }

    @Override
    public NDArray allReduceMean(NDArray flat, long step, NDManager scope) {
      try {
        return mean.allReduceMean(flat, step, scope);
      } catch (StatusRuntimeException e) {
        throw new ExchangeException(e.getStatus().getDescription(), e);
      }
    }

    @Override
    public void close() {
      open.remove(this);
      ring.close();
    }
  }
}
