package io.scoreflow.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.scoreflow.InvalidInputException;
import io.scoreflow.config.ConfigValues.Kind;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The keys a scoreflow config may set: exactly those of the {@code scoreflow} tree of
 * reference.conf (every module's on the class path: common's, and the coordinator's {@code
 * scoreflow.cluster}), each taking what its default shows: a whole number ({@code 128}), a number
 * ({@code 2e-4}, {@code 1.0}), a boolean, a duration (a string default with a unit, {@code 120s}),
 * a string, a list, a block. A key whose default is {@code null} (an optional override, such as
 * {@code scoreflow.model.nf}) is known but untyped here: the code that reads it checks it with
 * {@link ConfigValues}. reference.conf is thus the one schema: a key is documented there or it is
 * an error.
 */
public final class ConfigSchema {

  /** The one top-level key of a scoreflow config. */
  public static final String ROOT = "scoreflow";

  private final ConfigObject root;

  private ConfigSchema(ConfigObject root) {
    this.root = root;
  }

  /** The schema of the reference.conf files on the class path. */
  public static ConfigSchema reference() {
    Config reference = ConfigFactory.defaultReference();
    return new ConfigSchema(reference.getObject(ROOT));
  }

  /** Every key, as a full path ({@code scoreflow.train.batch-size}); blocks are not listed. */
  public SortedSet<String> keys() {
    SortedSet<String> keys = new TreeSet<>();
    collect(List.of(ROOT), root, keys, false);
    return keys;
  }

  /**
   * Checks the top-level keys of one layer of a config as parsed (a file, a preset, the {@code
   * --set} overrides), before it is merged with the defaults: only {@code scoreflow} may be there.
   *
   * @throws InvalidInputException naming the first other key
   */
  public void checkTopLevel(Config layer) {
    for (String key : new TreeSet<>(layer.root().keySet())) {
      if (key.equals(ROOT)) {
        continue;
      }
      ConfigOrigin origin = layer.root().get(key).origin();
      String hint =
          distance(key, ROOT) <= 3
              ? "; did you mean " + ROOT + "?"
              : ": a config sets only "
                  + ROOT
                  + ".* keys (Pekko's own settings are -D system"
                  + " properties, see docs/configuration.md)";
      throw new InvalidInputException(
          "unknown top-level config key "
              + ConfigUtil.joinPath(key)
              + ConfigValues.where(origin)
              + hint);
    }
  }

  /**
   * Checks the {@code scoreflow} tree of a resolved config: every key known, every value of the
   * kind its default shows.
   *
   * @throws InvalidInputException naming the first problem (in file order) and how many more there
   *     are
   */
  public void check(Config resolved) {
    if (!resolved.hasPathOrNull(ROOT)) {
      return;
    }
    List<Problem> problems = new ArrayList<>();
    ConfigValue given = resolved.root().get(ROOT);
    if (given.valueType() != ConfigValueType.OBJECT) {
      problems.add(problem(given, ConfigValues.bad(ROOT, given, Kind.OBJECT.expected())));
    } else {
      walk(List.of(ROOT), root, (ConfigObject) given, problems);
    }
    if (problems.isEmpty()) {
      return;
    }
    problems.sort(
        Comparator.comparingInt(Problem::line)
            .thenComparing(Problem::message, Comparator.naturalOrder()));
    int more = problems.size() - 1;
    throw new InvalidInputException(
        problems.get(0).message()
            + (more == 0 ? "" : " (and " + more + " more problem" + (more == 1 ? "" : "s") + ")"));
  }

  /**
   * The known key or block nearest to {@code unknown}: the one whose last segment is within a small
   * edit distance of {@code unknown}'s (or equal to it), nearest over the whole path.
   */
  public Optional<String> suggest(List<String> unknown) {
    String leaf = unknown.get(unknown.size() - 1);
    int limit = Math.max(1, Math.min(3, leaf.length() / 3));
    String full = ConfigUtil.joinPath(unknown);
    SortedSet<String> all = new TreeSet<>();
    collect(List.of(ROOT), root, all, true);
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String candidate : all) {
      List<String> parts = ConfigUtil.splitPath(candidate);
      if (distance(leaf, parts.get(parts.size() - 1)) > limit) {
        continue;
      }
      int d = distance(full, candidate);
      if (d < bestDistance) {
        best = candidate;
        bestDistance = d;
      }
    }
    return Optional.ofNullable(best);
  }

  private record Problem(int line, String message) {}

  private static Problem problem(ConfigValue v, InvalidInputException e) {
    int line = v.origin() == null || v.origin().lineNumber() < 0 ? 0 : v.origin().lineNumber();
    return new Problem(line, e.getMessage());
  }

  private void walk(List<String> path, ConfigObject schema, ConfigObject given, List<Problem> out) {
    for (String key : new TreeSet<>(given.keySet())) {
      List<String> child = append(path, key);
      String name = ConfigUtil.joinPath(child);
      ConfigValue v = given.get(key);
      ConfigValue ref = schema.get(key);
      if (ref == null) {
        out.add(problem(v, unknown(child, v, schema, path)));
      } else if (ref.valueType() == ConfigValueType.OBJECT) {
        if (v.valueType() != ConfigValueType.OBJECT) {
          out.add(problem(v, ConfigValues.bad(name, v, Kind.OBJECT.expected())));
        } else {
          walk(child, (ConfigObject) ref, (ConfigObject) v, out);
        }
      } else {
        try {
          ConfigValues.check(name, v, kindOf(ref), elementKind(ref));
        } catch (InvalidInputException e) {
          out.add(problem(v, e));
        }
      }
    }
  }

  private InvalidInputException unknown(
      List<String> path, ConfigValue v, ConfigObject parent, List<String> parentPath) {
    String hint =
        suggest(path)
            .map(s -> "; did you mean " + s + "?")
            .orElseGet(
                () ->
                    "; "
                        + ConfigUtil.joinPath(parentPath)
                        + " has "
                        + String.join(", ", new TreeSet<>(parent.keySet())));
    return new InvalidInputException(
        "unknown config key " + ConfigUtil.joinPath(path) + ConfigValues.where(v.origin()) + hint);
  }

  /** What the key of default {@code ref} takes. */
  static Kind kindOf(ConfigValue ref) {
    return switch (ref.valueType()) {
      case NULL -> Kind.ANY;
      case BOOLEAN -> Kind.BOOLEAN;
      // As written: HOCON keeps 1.0 as an integer with the text "1.0", which is a number key.
      case NUMBER -> ConfigValues.render(ref).matches("[-+]?[0-9]+") ? Kind.WHOLE : Kind.NUMBER;
      case STRING -> isDuration((String) ref.unwrapped()) ? Kind.DURATION : Kind.STRING;
      case LIST -> Kind.LIST;
      case OBJECT -> Kind.OBJECT;
    };
  }

  private static Kind elementKind(ConfigValue ref) {
    if (ref instanceof ConfigList list && !list.isEmpty()) {
      return kindOf(list.get(0));
    }
    return Kind.ANY;
  }

  /** A string default such as {@code 120s}: a number with a unit. */
  private static boolean isDuration(String s) {
    if (!s.strip().matches("[0-9.]+\\s*[a-zA-Z]+")) {
      return false;
    }
    try {
      ConfigFactory.parseString("d = " + s).getDuration("d");
      return true;
    } catch (ConfigException e) {
      return false;
    }
  }

  private static void collect(
      List<String> path, ConfigObject object, SortedSet<String> out, boolean blocks) {
    for (var e : object.entrySet()) {
      List<String> child = append(path, e.getKey());
      if (e.getValue() instanceof ConfigObject o) {
        if (blocks) {
          out.add(ConfigUtil.joinPath(child));
        }
        collect(child, o, out, blocks);
      } else {
        out.add(ConfigUtil.joinPath(child));
      }
    }
  }

  private static List<String> append(List<String> path, String key) {
    List<String> out = new ArrayList<>(path);
    out.add(key);
    return out;
  }

  /** The optimal-string-alignment distance: edits, with a swap of neighbours as one. */
  static int distance(String a, String b) {
    int[][] d = new int[a.length() + 1][b.length() + 1];
    for (int i = 0; i <= a.length(); i++) {
      d[i][0] = i;
    }
    for (int j = 0; j <= b.length(); j++) {
      d[0][j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
        if (i > 1
            && j > 1
            && a.charAt(i - 1) == b.charAt(j - 2)
            && a.charAt(i - 2) == b.charAt(j - 1)) {
          d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    return d[a.length()][b.length()];
  }
}
