package io.scoreflow.cli.sweep;

import static io.scoreflow.InvalidInputException.require;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.scoreflow.InvalidInputException;
import io.scoreflow.config.Configs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A sweep: many training jobs, one base config and an override per job. The spec is HOCON:
 *
 * <pre>
 * sweep {
 *   name = my-sweep
 *   steps = 300                 # every job trains this many steps
 *   workers-per-job = 2
 *   base = quick-cpu            # a preset or a file (relative to the spec) ...
 *   base { scoreflow { ... } }  # ... or a config inline
 *   set { scoreflow.train.batch-size = 64 }          # on every job
 *   jobs = [ { name = vp-linear, priority = 1, set { scoreflow.sde.name = vp-linear } } ]
 *   grid { scoreflow.sde.name = [vp-linear, ve-exp] }  # or: one job per combination
 * }
 * </pre>
 *
 * A job's name (letters, digits, {@code -_.}) names its run directory and its metrics label; jobs
 * run in priority order (highest first), then in the order written.
 *
 * @param name the sweep's name
 * @param steps the steps every job trains
 * @param workersPerJob the ring of each job
 * @param jobs the jobs, in the order written
 */
public record SweepSpec(String name, long steps, int workersPerJob, List<Job> jobs) {

  /**
   * One job: its name, priority and resolved config (its {@code scoreflow.job.name} is its name).
   */
  public record Job(String name, int priority, Config config) {}

  /** The presets shipped with scoreflow. */
  public static final List<String> PRESETS = List.of("paper-table3", "paper-table3-cpu");

  /** Reads the spec {@code fileOrPreset}; {@code overrides} ({@code --set}) go on every job. */
  public static SweepSpec load(String fileOrPreset, List<String> overrides) {
    Path file = Path.of(fileOrPreset);
    Config root;
    Path relativeTo;
    try {
      if (Files.isRegularFile(file)) {
        root = ConfigFactory.parseFile(file.toFile());
        relativeTo = file.toAbsolutePath().getParent();
      } else if (PRESETS.contains(fileOrPreset)) {
        root =
            ConfigFactory.parseResources(
                SweepSpec.class, "/io/scoreflow/cli/sweep/" + fileOrPreset + ".conf");
        relativeTo = null;
      } else {
        throw new InvalidInputException(
            "'"
                + fileOrPreset
                + "' is neither a sweep spec file nor a sweep preset ("
                + String.join(", ", PRESETS)
                + ")");
      }
      return of(root.resolve(), fileOrPreset, relativeTo, overrides);
    } catch (ConfigException e) {
      throw new InvalidInputException("sweep spec " + fileOrPreset + ": " + e.getMessage(), e);
    }
  }

  private static SweepSpec of(Config root, String origin, Path relativeTo, List<String> overrides) {
    require(root.hasPath("sweep"), "sweep spec %s: it has no 'sweep' block", origin);
    Config s = root.getConfig("sweep");
    String name = s.getString("name");
    requireName(name, "sweep.name");
    long steps = s.getLong("steps");
    require(steps >= 1, "sweep.steps must be >= 1, got %s", steps);
    int perJob = s.hasPath("workers-per-job") ? s.getInt("workers-per-job") : 1;
    require(perJob >= 1, "sweep.workers-per-job must be >= 1, got %s", perJob);
    List<String> common = new ArrayList<>(flatten(s, "set"));
    common.addAll(overrides);
    List<Job> jobs = new ArrayList<>();
    if (s.hasPath("jobs")) {
      for (Config j : s.getConfigList("jobs")) {
        List<String> set = new ArrayList<>(common);
        set.addAll(flatten(j, "set"));
        jobs.add(
            job(
                j.getString("name"),
                j.hasPath("priority") ? j.getInt("priority") : 0,
                j.hasPath("base") ? j : s,
                origin,
                relativeTo,
                set));
      }
    }
    if (s.hasPath("grid")) {
      Map<String, List<String>> axes = new TreeMap<>();
      for (Map.Entry<String, ConfigValue> e : s.getConfig("grid").entrySet()) {
        require(
            e.getValue().valueType() == ConfigValueType.LIST,
            "sweep.grid.%s must be a list of values",
            e.getKey());
        List<String> values = new ArrayList<>();
        for (ConfigValue v : s.getConfig("grid").getList(e.getKey())) {
          values.add(render(v));
        }
        axes.put(e.getKey(), values);
      }
      for (Map<String, String> point : product(axes)) {
        List<String> set = new ArrayList<>(common);
        List<String> parts = new ArrayList<>();
        point.forEach(
            (k, v) -> {
              set.add(k + "=" + v);
              parts.add(v.replaceAll("[^A-Za-z0-9_.-]", ""));
            });
        jobs.add(job(String.join("-", parts), 0, s, origin, relativeTo, set));
      }
    }
    require(!jobs.isEmpty(), "sweep spec %s has no jobs (give sweep.jobs or sweep.grid)", origin);
    Set<String> names = new HashSet<>();
    for (Job j : jobs) {
      require(names.add(j.name()), "sweep spec %s names job '%s' twice", origin, j.name());
    }
    return new SweepSpec(name, steps, perJob, List.copyOf(jobs));
  }

  private static Job job(
      String name, int priority, Config holder, String origin, Path relativeTo, List<String> set) {
    requireName(name, "a job's name");
    require(holder.hasPath("base"), "sweep spec %s: job %s has no base config", origin, name);
    List<String> all = new ArrayList<>(set);
    all.add("scoreflow.job.name=\"" + name + "\"");
    Config config;
    try {
      if (holder.getValue("base").valueType() == ConfigValueType.OBJECT) {
        config = Configs.load(holder.getConfig("base"), origin + " (sweep.base)", all);
      } else {
        String base = holder.getString("base");
        Path file = relativeTo == null ? null : relativeTo.resolve(base);
        config =
            Configs.load(file != null && Files.isRegularFile(file) ? file.toString() : base, all);
      }
      // What a worker would refuse at its first step (an unknown SDE, a bad parameter) is bad
      // input of the spec, said now in one line.
      io.scoreflow.run.TrainSetup.sde(config);
    } catch (InvalidInputException e) {
      throw new InvalidInputException(
          "sweep spec " + origin + ", job " + name + ": " + e.getMessage(), e);
    }
    return new Job(name, priority, config);
  }

  private static void requireName(String name, String what) {
    require(
        name.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"),
        "%s '%s' must be 1-64 letters, digits, '-', '_' or '.'",
        what,
        name);
  }

  /** The {@code key=value} overrides of the object at {@code path} (none when absent). */
  private static List<String> flatten(Config c, String path) {
    List<String> out = new ArrayList<>();
    if (c.hasPath(path)) {
      for (Map.Entry<String, ConfigValue> e : c.getConfig(path).entrySet()) {
        out.add(e.getKey() + "=" + render(e.getValue()));
      }
    }
    return out;
  }

  private static String render(ConfigValue v) {
    return v.valueType() == ConfigValueType.STRING
        ? (String) v.unwrapped()
        : v.render(ConfigRenderOptions.concise());
  }

  private static List<Map<String, String>> product(Map<String, List<String>> axes) {
    List<Map<String, String>> points = new ArrayList<>();
    points.add(new TreeMap<>());
    for (Map.Entry<String, List<String>> axis : axes.entrySet()) {
      List<Map<String, String>> next = new ArrayList<>();
      for (Map<String, String> p : points) {
        for (String v : axis.getValue()) {
          Map<String, String> q = new TreeMap<>(p);
          q.put(axis.getKey(), v);
          next.add(q);
        }
      }
      points = next;
    }
    return points;
  }
}
