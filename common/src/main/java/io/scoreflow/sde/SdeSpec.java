package io.scoreflow.sde;

import com.typesafe.config.Config;
import io.scoreflow.InvalidInputException;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

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
   * Completes user-given values with defaults: those of {@code scoreflow.sde.NAME} in the
   * configuration where it sets them, else the schedule's own (declared in {@link Schedule}, which
   * reference.conf mirrors). Values given for keys the schedule does not take are an error, so that
   * a mistyped flag is never silently ignored.
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
      if (!schedule.expressionKeys().contains(key)) {
        throw new InvalidInputException(notAnExpressionOf(schedule, key));
      }
    }
    Map<String, Double> params = new LinkedHashMap<>();
    for (Parameter.Number p : schedule.numbers()) {
      String path = name + "." + p.key();
      Double v = given.get(p.key());
      if (v == null) {
        v = defaults.hasPath(path) ? defaults.getDouble(path) : p.defaultValue();
      }
      params.put(p.key(), v);
    }
    List<String> needed = schedule.expressionKeys();
    for (String key : needed) {
      if (!givenExpressions.containsKey(key)) {
        throw new InvalidInputException(
            "the "
                + name
                + " SDE needs "
                + needed.stream().map(k -> "--" + k).collect(Collectors.joining(" and "))
                + " (expressions in t), missing --"
                + key);
      }
    }
    double t = horizon != null ? horizon : defaults.getDouble("horizon");
    return new SdeSpec(schedule, t, params, givenExpressions);
  }

  private static String takes(Schedule schedule) {
    return Stream.concat(schedule.parameterKeys().stream(), schedule.expressionKeys().stream())
        .map(k -> "--" + k)
        .collect(Collectors.joining(", "));
  }

  /** e.g. "--f applies only to the generic SDE, not to vp-linear". */
  private static String notAnExpressionOf(Schedule schedule, String key) {
    List<String> takers =
        Arrays.stream(Schedule.values())
            .filter(s -> s.expressionKeys().contains(key))
            .map(Schedule::id)
            .toList();
    if (takers.isEmpty()) {
      return "--"
          + key
          + " does not apply to "
          + schedule.id()
          + " (it takes "
          + takes(schedule)
          + ")";
    }
    return "--"
        + key
        + " applies only to the "
        + String.join(", ", takers)
        + " SDE, not to "
        + schedule.id();
  }
}
