package io.scoreflow.worker.exchange;

import com.typesafe.config.Config;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The gradient exchanges a worker can run, by the name {@code scoreflow.cluster.exchange} and
 * {@code worker --exchange} give them. Every worker of a job must run the job's exchange: a worker
 * checks the job's config against its own before it opens a generation. The worker node starts the
 * one named ({@code io.scoreflow.worker.Exchanges}).
 */
public enum ExchangeKind {
  /** The chunked, pipelined gRPC ring all-reduce ({@code exchange.ring}; the default). */
  RING,
  /** Gather to rank 0, average, broadcast, over plain TCP ({@code exchange.star}): the fallback. */
  STAR;

  /** The config key that names a job's exchange. */
  public static final String CONFIG_KEY = "scoreflow.cluster.exchange";

  /** The name in configs and flags ({@code ring}, {@code star}). */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * The exchange called {@code name}.
   *
   * @param what what named it, for the error ({@code --exchange}, the config key)
   * @throws IllegalArgumentException naming the choices
   */
  public static ExchangeKind parse(String name, String what) {
    for (ExchangeKind k : values()) {
      if (k.configName().equals(name)) {
        return k;
      }
    }
    throw new IllegalArgumentException(
        what
            + " must be "
            + Arrays.stream(values())
                .map(ExchangeKind::configName)
                .collect(Collectors.joining(" or "))
            + ", got '"
            + name
            + "'");
  }

  /** The exchange {@code config} names ({@value #CONFIG_KEY}, default ring). */
  public static ExchangeKind of(Config config) {
    return config.hasPath(CONFIG_KEY) ? parse(config.getString(CONFIG_KEY), CONFIG_KEY) : RING;
  }
}
