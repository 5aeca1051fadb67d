package io.scoreflow.proto.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
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

  /** The Pekko address of the node listening on {@code host}:{@code port}. */
  public static String pekkoAddress(String host, int port) {
    return "pekko://" + SYSTEM_NAME + "@" + host + ":" + port;
  }

  /**
   * The config of a node listening on {@code host}:{@code port} ({@code 0}: any free port) that
   * joins the node at {@code seedAddress} (a {@link #pekkoAddress}), or starts the cluster itself
   * when it is null (the coordinator). Ports are checked by the caller, where the user gave them.
   */
  public static Config node(String host, int port, String seedAddress, String role) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port " + port + " is outside 0..65535");
    }
    Config node =
        ConfigFactory.empty()
            .withValue(
                "pekko.remote.artery.canonical.hostname", ConfigValueFactory.fromAnyRef(host))
            .withValue("pekko.remote.artery.canonical.port", ConfigValueFactory.fromAnyRef(port))
            .withValue("pekko.cluster.roles", ConfigValueFactory.fromIterable(List.of(role)))
            .withValue(
                "pekko.cluster.seed-nodes",
                ConfigValueFactory.fromIterable(
                    seedAddress == null ? List.of() : List.of(seedAddress)));
    return node.withFallback(
            ConfigFactory.parseResources(ClusterNodes.class.getClassLoader(), NODE_CONF))
        .withFallback(ConfigFactory.load())
        .resolve();
  }
}
