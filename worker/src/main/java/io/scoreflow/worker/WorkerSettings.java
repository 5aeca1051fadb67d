package io.scoreflow.worker;

import com.typesafe.config.Config;
import io.scoreflow.config.ConfigValues;
import java.time.Duration;
import java.util.Objects;

/**
 * Who a worker is and how patient it is.
 *
 * @param workerId the id that orders the ring (zero-pad numbers: {@code worker-007})
 * @param host the host peers reach this worker's exchange server on
 * @param device the device it trains on ({@code cpu}, {@code gpu}, {@code auto})
 * @param registerRetry how often it repeats its registration until acknowledged
 * @param registerTimeout when it gives up finding or registering with a coordinator
 * @param stopTimeout how long it waits for its training thread to stop
 * @param coordinatorTimeout how long the coordinator may stay unreachable before this worker counts
 *     it as lost (and rejoins); the coordinator alone takes nodes out of the cluster
 */
public record WorkerSettings(
    String workerId,
    String host,
    String device,
    Duration registerRetry,
    Duration registerTimeout,
    Duration stopTimeout,
    Duration coordinatorTimeout) {

  public WorkerSettings {
    Objects.requireNonNull(workerId, "workerId");
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(device, "device");
  }

  /**
   * The timeouts of {@code scoreflow.cluster} in {@code config}.
   *
   * @throws io.scoreflow.InvalidInputException naming a key whose value is not a duration
   */
  public static WorkerSettings of(String workerId, String host, String device, Config config) {
    return new WorkerSettings(
        workerId,
        host,
        device,
        ConfigValues.duration(config, CLUSTER + "register-retry"),
        ConfigValues.duration(config, CLUSTER + "register-timeout"),
        ConfigValues.duration(config, CLUSTER + "stop-timeout"),
        ConfigValues.duration(config, CLUSTER + "coordinator-timeout"));
  }

  private static final String CLUSTER = "scoreflow.cluster.";
}
