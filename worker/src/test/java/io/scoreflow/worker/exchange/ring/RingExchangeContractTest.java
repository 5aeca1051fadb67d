package io.scoreflow.worker.exchange.ring;

import io.scoreflow.worker.exchange.ExchangeContractTest;
import io.scoreflow.worker.exchange.ExchangeServer;
import java.time.Duration;

/** The exchange contract for the gRPC ring all-reduce. */
class RingExchangeContractTest extends ExchangeContractTest {
  @Override
  protected ExchangeServer start(String workerId, Duration deadline) {
    return RingExchange.start(workerId, "127.0.0.1", 0, deadline);
  }
}
