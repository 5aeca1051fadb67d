package io.scoreflow.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.scoreflow.InvalidInputException;
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
import picocli.CommandLine.Option;

/**
 * The flags that define a forward SDE, shared by every command that takes one. A schedule may also
 * carry its own values inline, {@code NAME[:key=value]...} (e.g. {@code vp-poly:rho=3}), which is
 * how a sweep gives different SDEs different parameters.
 */
final class SdeOptions {

  @Option(names = "--beta-min", paramLabel = "B", description = "VP: smallest noise rate.")
  Double betaMin;

  @Option(names = "--beta-max", paramLabel = "B", description = "VP: largest noise rate.")
  Double betaMax;

  @Option(names = "--beta", paramLabel = "B", description = "vp-constant: the noise rate.")
  Double beta;

  @Option(names = "--sigma-min", paramLabel = "S", description = "VE: smallest noise level.")
  Double sigmaMin;

  @Option(names = "--sigma-max", paramLabel = "S", description = "VE: largest noise level.")
  Double sigmaMax;

  @Option(names = "--rho", paramLabel = "R", description = "vp-poly, ve-poly: the exponent.")
  Double rho;

  @Option(names = "--T", paramLabel = "T", description = "Horizon (default from config: 1).")
  Double horizon;

  @Option(
      names = "--f",
      paramLabel = "EXPR",
      description = "generic: f(t), e.g. '0.5*(0.1+19.9*t)'.")
  String fExpression;

  @Option(
      names = "--g",
      paramLabel = "EXPR",
      description = "generic: g(t), e.g. 'sqrt(0.1+19.9*t)'.")
  String gExpression;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "HOCON file whose scoreflow.sde block overrides the defaults.")
  Path config;

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
    for (String key : flagValues().keySet()) {
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
    for (var e : flagValues().entrySet()) {
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
    Map<String, String> expressions = new LinkedHashMap<>();
    if (fExpression != null) {
      expressions.put("f", fExpression);
    }
    if (gExpression != null) {
      expressions.put("g", gExpression);
    }
    if (!strict && schedule != Schedule.GENERIC) {
      expressions.clear();
    }
    return SdeSpec.resolve(name, given, expressions, horizon, defaults());
  }

  private Map<String, Double> flagValues() {
    Map<String, Double> values = new LinkedHashMap<>();
    put(values, "beta-min", betaMin);
    put(values, "beta-max", betaMax);
    put(values, "beta", beta);
    put(values, "sigma-min", sigmaMin);
    put(values, "sigma-max", sigmaMax);
    put(values, "rho", rho);
    return values;
  }

  private static void put(Map<String, Double> values, String key, Double v) {
    if (v != null) {
      values.put(key, v);
    }
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
    try {
      return ConfigFactory.parseFile(config.toFile())
          .withFallback(reference)
          .resolve()
          .getConfig("scoreflow.sde");
    } catch (com.typesafe.config.ConfigException e) {
      throw new InvalidInputException("config file " + config + ": " + e.getMessage(), e);
    }
  }
}
