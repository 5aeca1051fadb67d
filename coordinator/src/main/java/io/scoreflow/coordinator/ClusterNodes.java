package io.scoreflow.coordinator;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.scoreflow.InvalidInputException;
import java.util.List;

/** The Pekko configuration of a scoreflow cluster node, and the addresses nodes are given. */
public final class ClusterNodes {

  /** Every node's actor system has this name; a cluster only forms among equal names. */
  public static final String SYSTEM_NAME = "scoreflow";

  private static final String NODE_CONF = "scoreflow-node.conf";

  private ClusterNodes() {}

  /**
   * Whether {@code system} runs as a cluster node (a test kit's plain system does not, and has no
   * membership events to subscribe to).
   */
  public static boolean clustered(org.apache.pekko.actor.typed.ActorSystem<?> system) {
    return "cluster".equals(system.settings().config().getString("pekko.actor.provider"));
  }

  /** A {@code HOST:PORT} as given on the command line. */
  public record HostPort(String host, int port) {
    @Override
    public String toString() {
      return host + ":" + port;
    }

    /** The Pekko address of the node listening here. */
    public String pekkoAddress() {
      return "pekko://" + SYSTEM_NAME + "@" + host + ":" + port;
    }
  }

  /** Parses {@code HOST:PORT}; bad input is one clear error. */
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

  /**
   * The config of a node listening on {@code host}:{@code port} ({@code 0}: any free port) that
   * joins {@code seed}, or starts the cluster itself when {@code seed} is null (the coordinator).
   */
  public static Config node(String host, int port, HostPort seed, String role) {
    InvalidInputException.require(port >= 0 && port < 65536, "port %s is outside 0..65535", port);
    Config node =
        ConfigFactory.empty()
            .withValue(
                "pekko.remote.artery.canonical.hostname", ConfigValueFactory.fromAnyRef(host))
            .withValue("pekko.remote.artery.canonical.port", ConfigValueFactory.fromAnyRef(port))
            .withValue("pekko.cluster.roles", ConfigValueFactory.fromIterable(List.of(role)))
            .withValue(
                "pekko.cluster.seed-nodes",
                ConfigValueFactory.fromIterable(
                    seed == null ? List.of() : List.of(seed.pekkoAddress())));
    return node.withFallback(
            ConfigFactory.parseResources(ClusterNodes.class.getClassLoader(), NODE_CONF))
        .withFallback(ConfigFactory.load())
        .resolve();
  }
}
