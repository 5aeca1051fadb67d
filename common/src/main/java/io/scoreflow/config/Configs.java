package io.scoreflow.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import io.scoreflow.InvalidInputException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The one way scoreflow reads a configuration: a HOCON file or a preset name (a file wins when both
 * exist), then {@code key=value} overrides, then {@code reference.conf}'s defaults, resolved
 * against the environment (presets read {@code ${?CIFAR10_DIR}}), then checked against
 * reference.conf ({@link ConfigSchema}): a key it does not know is an error with the nearest known
 * key, a value of the wrong kind is an error naming the key, the value and what it takes. Every
 * problem is an {@link InvalidInputException}, so a config is either usable or one line.
 */
public final class Configs {

  static final String PRESETS = "presets/";

  /** The origin description of a {@code --set} override (see {@link ConfigValues#where}). */
  static final String SET_ORIGIN = "--set ";

  private Configs() {}

  /** The resolved configuration of {@code fileOrPreset} with {@code overrides} on top. */
  public static Config load(String fileOrPreset, List<String> overrides) {
    return load(parse(fileOrPreset), fileOrPreset, overrides);
  }

  /**
   * The resolved configuration of {@code base} (unresolved, as parsed from {@code origin}: a sweep
   * spec's inline base) with {@code overrides} on top, checked as a config file is.
   */
  public static Config load(Config base, String origin, List<String> overrides) {
    String fileOrPreset = origin;
    Config over = ConfigFactory.empty();
    for (String o : overrides) {
      int eq = o.indexOf('=');
      if (eq <= 0) {
        throw new InvalidInputException("--set '" + o + "' is not key=value");
      }
      try {
        over =
            ConfigFactory.parseString(
                    o.substring(0, eq) + " = " + o.substring(eq + 1),
                    ConfigParseOptions.defaults().setOriginDescription(SET_ORIGIN + o))
                .withFallback(over);
      } catch (ConfigException e) {
        throw new InvalidInputException("--set '" + o + "': " + e.getMessage(), e);
      }
    }
    ConfigSchema schema = ConfigSchema.reference();
    schema.checkTopLevel(base);
    schema.checkTopLevel(over);
    Config resolved;
    try {
      resolved = over.withFallback(base).withFallback(ConfigFactory.defaultReference()).resolve();
    } catch (ConfigException e) {
      throw new InvalidInputException("config " + fileOrPreset + ": " + e.getMessage(), e);
    }
    schema.check(resolved);
    return resolved;
  }

  private static Config parse(String fileOrPreset) {
    Path file = Path.of(fileOrPreset);
    try {
      if (Files.isRegularFile(file)) {
        if (!Files.isReadable(file)) {
          throw new InvalidInputException("cannot read config file " + file);
        }
        return ConfigFactory.parseFile(file.toFile());
      }
      String resource = PRESETS + fileOrPreset + ".conf";
      if (Configs.class.getClassLoader().getResource(resource) != null) {
        return ConfigFactory.parseResources(Configs.class.getClassLoader(), resource);
      }
    } catch (ConfigException e) {
      throw new InvalidInputException("config " + fileOrPreset + ": " + e.getMessage(), e);
    }
    throw new InvalidInputException(
        "'"
            + fileOrPreset
            + "' is neither a config file nor a preset (presets: "
            + String.join(", ", presets())
            + ")");
  }

  /** The names of the presets shipped with scoreflow. */
  public static List<String> presets() {
    try (InputStream in =
        Configs.class.getClassLoader().getResourceAsStream(PRESETS + "index.txt")) {
      if (in == null) {
        return List.of();
      }
      return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))
          .lines()
          .map(String::trim)
          .filter(s -> !s.isEmpty())
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
