package io.scoreflow.run;

import io.scoreflow.InvalidInputException;

/** A {@code HOST:PORT} as a user gives it on the command line or in a config. */
public record HostPort(String host, int port) {

  @Override
  public String toString() {
    return host + ":" + port;
  }

  /** Parses {@code HOST:PORT} given as {@code option}; bad input is one clear error. */
  public static HostPort parse(String hostPort, String option) {
    int colon = hostPort == null ? -1 : hostPort.lastIndexOf(':');
    if (colon <= 0 || colon == hostPort.length() - 1) {
      throw new InvalidInputException(option + " must be HOST:PORT, got '" + hostPort + "'");
    }
    int port;
    try {
      port = Integer.parseInt(hostPort.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new InvalidInputException(option + " must be HOST:PORT, got '" + hostPort + "'");
    }
    InvalidInputException.require(
        port > 0 && port < 65536, "%s: port %s is outside 1..65535", option, port);
    return new HostPort(hostPort.substring(0, colon), port);
  }

  /** Checks a port to listen on ({@code 0}: any free port); bad input is one clear error. */
  public static int requireListenPort(int port) {
    InvalidInputException.require(port >= 0 && port < 65536, "port %s is outside 0..65535", port);
    return port;
  }
}
