package io.scoreflow.worker;

import com.typesafe.config.Config;
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

  /** The timeouts of {@code scoreflow.cluster} in {@code config}. */
  public static WorkerSettings of(String workerId, String host, String device, Config config) {
    Config c = config.getConfig("scoreflow.cluster");
    return new WorkerSettings(
        workerId,
        host,
        device,
        c.getDuration("register-retry"),
        c.getDuration("register-timeout"),
        c.getDuration("stop-timeout"),
        c.getDuration("coordinator-timeout"));
  }
}
