package io.scoreflow.cli.theory;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.scoreflow.InvalidInputException;
import io.scoreflow.config.Configs;
import io.scoreflow.sde.ForwardSde;
import io.scoreflow.sde.Schedule;
import io.scoreflow.sde.SdeSpec;
import io.scoreflow.sde.Sdes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The flags that define a forward SDE, shared by every command that takes one. A schedule may also
 * carry its own values inline, {@code NAME[:key=value]...} (e.g. {@code vp-poly:rho=3}), which is
 * how a sweep gives different SDEs different parameters. The parameter flags themselves come from
 * the registry of schedules ({@link Schedule}), through {@link SdeFlags}.
 */
public final class SdeOptions {

  @Option(names = "--T", paramLabel = "T", description = "Horizon (default from config: 1).")
  Double horizon;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "HOCON file whose scoreflow.sde block overrides the defaults.")
  Path config;

  /** The numeric parameter flags given, by key (e.g. {@code beta-min}). */
  private final Map<String, Double> numbers = new LinkedHashMap<>();

  /** The expression flags given, by key ({@code f}, {@code g}). */
  private final Map<String, String> expressions = new LinkedHashMap<>();

  /**
   * Picocli calls this with the command the mixin is part of, while building it: the parameter
   * flags and the help's list of schedules are added there from the registry, rather than declared
   * here as fields, so that a new schedule's parameters become flags without an edit here.
   */
  @Spec(Spec.Target.MIXEE)
  void addScheduleFlags(CommandSpec command) {
    SdeFlags.addTo(command, numbers, expressions);
  }

  /** The SDE named by {@code nameWithInline}; flags must all apply to it. */
  ForwardSde single(String nameWithInline) {
    return Sdes.create(spec(nameWithInline, true));
  }

  /**
   * The SDEs of a comma-separated list. A flag applies to every listed SDE that takes it, and must
   * apply to at least one of them.
   */
  List<ForwardSde> several(List<String> namesWithInline) {
    List<SdeSpec> specs = new ArrayList<>();
    for (String name : namesWithInline) {
      specs.add(spec(name, false));
    }
    for (String key : numbers.keySet()) {
      boolean used = specs.stream().anyMatch(s -> s.schedule().parameterKeys().contains(key));
      if (!used) {
        throw new InvalidInputException("--" + key + " applies to none of " + namesWithInline);
      }
    }
    return specs.stream().map(Sdes::create).toList();
  }

  private SdeSpec spec(String nameWithInline, boolean strict) {
    String[] parts = nameWithInline.trim().split(":");
    String name = parts[0];
    Schedule schedule = Schedule.byId(name);
    Map<String, Double> given = new LinkedHashMap<>();
    for (var e : numbers.entrySet()) {
      if (strict || schedule.parameterKeys().contains(e.getKey())) {
        given.put(e.getKey(), e.getValue());
      }
    }
    for (int i = 1; i < parts.length; i++) {
      String[] kv = parts[i].split("=", 2);
      if (kv.length != 2) {
        throw new InvalidInputException(
            "'" + parts[i] + "' in '" + nameWithInline + "' is not key=value");
      }
      given.put(kv[0].trim(), number(kv[0].trim(), kv[1].trim(), nameWithInline));
    }
    Map<String, String> givenExpressions = new LinkedHashMap<>();
    for (var e : expressions.entrySet()) {
      if (strict || schedule.expressionKeys().contains(e.getKey())) {
        givenExpressions.put(e.getKey(), e.getValue());
      }
    }
    return SdeSpec.resolve(name, given, givenExpressions, horizon, defaults());
  }

  private static double number(String key, String text, String context) {
    try {
      return Double.parseDouble(text);
    } catch (NumberFormatException e) {
      throw new InvalidInputException(
          key + "=" + text + " in '" + context + "' is not a number", e);
    }
  }

  private Config defaults() {
    Config reference = ConfigFactory.defaultReference();
    if (config == null) {
      return reference.getConfig("scoreflow.sde");
    }
    if (!Files.isReadable(config)) {
      throw new InvalidInputException("cannot read config file " + config);
    }
    // Read as every command reads a config: an unknown key or a bad value is an error.
    return Configs.load(config.toString(), List.of()).getConfig("scoreflow.sde");
  }
}
