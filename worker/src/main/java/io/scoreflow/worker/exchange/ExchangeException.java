package io.scoreflow.worker.exchange;

/** A gradient exchange failed: a peer is unreachable, too slow, refused, or sent garbage. */
public class ExchangeException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ExchangeException(String message) {
    super(message);
  }

  public ExchangeException(String message, Throwable cause) {
    super(message, cause);
  }
}
