package io.scoreflow.sde;

import com.typesafe.config.Config;
import io.scoreflow.InvalidInputException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything that defines a forward SDE: the schedule, the horizon T, its numeric parameters and,
 * for the generic schedule, the expressions of f and g in {@code t}. Values are complete (defaults
 * already filled in) but not yet validated: {@link Sdes#create} validates.
 */
public record SdeSpec(
    Schedule schedule,
    double horizon,
    Map<String, Double> params,
    Map<String, String> expressions) {

  public SdeSpec {
    params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
    expressions = Collections.unmodifiableMap(new LinkedHashMap<>(expressions));
  }

  public String name() {
    return schedule.id();
  }

  /** The numeric parameter {@code key}; the key must belong to the schedule. */
  public double param(String key) {
    Double v = params.get(key);
    if (v == null) {
      throw new InvalidInputException(name() + " needs parameter --" + key);
    }
    return v;
  }

  /**
   * Completes user-given values with the defaults of {@code scoreflow.sde} in the configuration.
   * Values given for keys the schedule does not take are an error, so that a mistyped flag is never
   * silently ignored.
   *
   * @param defaults the {@code scoreflow.sde} block (with {@code horizon} and one block per name)
   * @param horizon the horizon, or null for the default
   */
  public static SdeSpec resolve(
      String name,
      Map<String, Double> given,
      Map<String, String> givenExpressions,
      Double horizon,
      Config defaults) {
    Schedule schedule = Schedule.byId(name);
    for (String key : given.keySet()) {
      if (!schedule.parameterKeys().contains(key)) {
        throw new InvalidInputException(
            "--" + key + " does not apply to " + name + " (it takes " + takes(schedule) + ")");
      }
    }
    for (String key : givenExpressions.keySet()) {
      if (schedule != Schedule.GENERIC) {
        throw new InvalidInputException(
            "--" + key + " applies only to the generic SDE, not to " + name);
      }
    }
    Map<String, Double> params = new LinkedHashMap<>();
    for (String key : schedule.parameterKeys()) {
      Double v = given.get(key);
      if (v == null) {
        String path = name + "." + key;
        if (!defaults.hasPath(path)) {
          throw new InvalidInputException(name + " needs --" + key);
        }
        v = defaults.getDouble(path);
      }
      params.put(key, v);
    }
    if (schedule == Schedule.GENERIC) {
      for (String key : Schedule.EXPRESSION_KEYS) {
        if (!givenExpressions.containsKey(key)) {
          throw new InvalidInputException(
              "the generic SDE needs --f and --g (expressions in t), missing --" + key);
        }
      }
    }
    double t = horizon != null ? horizon : defaults.getDouble("horizon");
    return new SdeSpec(schedule, t, params, givenExpressions);
  }

  private static String takes(Schedule schedule) {
    if (schedule == Schedule.GENERIC) {
      return "--f, --g";
    }
    return String.join(", ", schedule.parameterKeys().stream().map(k -> "--" + k).toList());
  }
}
