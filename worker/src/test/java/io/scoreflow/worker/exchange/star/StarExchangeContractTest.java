package io.scoreflow.worker.exchange.star;

import io.scoreflow.worker.exchange.ExchangeContractTest;
import io.scoreflow.worker.exchange.ExchangeServer;
import java.io.IOException;
import java.time.Duration;

/** The exchange contract for the star (gather to rank 0, average, broadcast). */
class StarExchangeContractTest extends ExchangeContractTest {
  @Override
  protected ExchangeServer start(String workerId, Duration deadline) throws IOException {
    return StarExchange.start("127.0.0.1", 0, deadline);
  }
}
