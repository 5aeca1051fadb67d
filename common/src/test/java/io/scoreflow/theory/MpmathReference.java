package io.scoreflow.theory;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import io.scoreflow.sde.ForwardSde;
import io.scoreflow.sde.SdeSpec;
import io.scoreflow.sde.Sdes;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The cases of {@code reference/w2_mpmath.json}, made by {@code tools/reference/w2_mpmath.py}: an
 * independent 60-digit mpmath computation from DESIGN.md's definitions.
 */
final class MpmathReference {

  private MpmathReference() {}

  static List<? extends Config> section(String name) {
    try (var in = MpmathReference.class.getResourceAsStream("/reference/w2_mpmath.json")) {
      Config root =
          ConfigFactory.parseReader(
              new InputStreamReader(in, StandardCharsets.UTF_8),
              ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON));
      return root.getConfigList(name);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static ForwardSde sde(Config c) {
    Map<String, Double> params = new LinkedHashMap<>();
    Config p = c.getConfig("params");
    for (String key : p.root().keySet()) {
      params.put(key, p.getDouble("\"" + key + "\""));
    }
    Double horizon = c.hasPath("T") ? c.getDouble("T") : null;
    return Sdes.create(
        SdeSpec.resolve(
            c.getString("sde"),
            params,
            Map.of(),
            horizon,
            ConfigFactory.defaultReference().getConfig("scoreflow.sde")));
  }

  static String describe(Config c) {
    return c.root().render(com.typesafe.config.ConfigRenderOptions.concise());
  }
}
