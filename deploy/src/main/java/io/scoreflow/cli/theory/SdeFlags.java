package io.scoreflow.cli.theory;

import io.scoreflow.cli.output.Describe;
import io.scoreflow.sde.Parameter;
import io.scoreflow.sde.Schedule;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.ISetter;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.UsageMessageSpec;

/**
 * The registry of schedules ({@link Schedule}) as picocli sees it: one flag per parameter key, and
 * a help section listing every schedule with its parameters and defaults. Both are made from the
 * registry when a command is built, so a new schedule needs no edit here and the help cannot drift
 * from what the code accepts.
 */
public final class SdeFlags {

  /** The key of the help section that lists the schedules. */
  static final String SECTION = "sdeSchedules";

  public static final String HEADING = "SDEs (--sde NAME; parameters with their defaults):";

  private SdeFlags() {}

  /**
   * Adds to {@code command} a {@code --key} flag for every parameter key of the registry, whose
   * values go to {@code numbers} or {@code expressions} (a flag not given leaves no entry), and the
   * section listing the schedules, placed before the footer.
   */
  static void addTo(
      CommandSpec command, Map<String, Double> numbers, Map<String, String> expressions) {
    for (Parameter p : parametersByKey().values()) {
      String key = p.key();
      String description = p.meaning() + " (" + String.join(", ", schedulesTaking(key)) + ").";
      OptionSpec.Builder option = OptionSpec.builder("--" + key).description(description);
      if (p instanceof Parameter.Number) {
        option.type(Double.class).paramLabel("NUM").setter(setter(key, numbers));
      } else {
        option.type(String.class).paramLabel("EXPR").setter(setter(key, expressions));
      }
      command.addOption(option.build());
    }
    UsageMessageSpec usage = command.usageMessage();
    List<String> keys = new ArrayList<>(usage.sectionKeys());
    keys.add(keys.indexOf(UsageMessageSpec.SECTION_KEY_FOOTER_HEADING), SECTION);
    usage.sectionKeys(keys);
    usage.sectionMap().put(SECTION, help -> section());
  }

  /** The help section: one line per schedule, in the registry's order. */
  static String section() {
    StringBuilder out = new StringBuilder(HEADING).append('\n');
    for (Schedule s : Schedule.values()) {
      String family = s.family() == Schedule.Family.GENERIC ? "" : s.family() + " ";
      out.append(
          String.format(
              Locale.ROOT, "  %-12s %-13s %s%n", s.id(), family + s.paperName(), parameters(s)));
    }
    return out.toString();
  }

  private static String parameters(Schedule s) {
    List<String> parts = new ArrayList<>();
    s.numbers().forEach(p -> parts.add(p.key() + "=" + Describe.number(p.defaultValue())));
    if (!s.expressions().isEmpty()) {
      parts.add(
          s.expressionKeys().stream().map(k -> "--" + k).collect(Collectors.joining(" "))
              + " (expressions in t)");
    }
    return String.join(" ", parts);
  }

  /** The first declaration of each parameter key, in the order keys first appear. */
  private static Map<String, Parameter> parametersByKey() {
    Map<String, Parameter> byKey = new LinkedHashMap<>();
    for (Schedule s : Schedule.values()) {
      s.numbers().forEach(p -> byKey.putIfAbsent(p.key(), p));
      s.expressions().forEach(p -> byKey.putIfAbsent(p.key(), p));
    }
    return byKey;
  }

  private static List<String> schedulesTaking(String key) {
    List<String> names = new ArrayList<>();
    for (Schedule s : Schedule.values()) {
      if (s.parameterKeys().contains(key) || s.expressionKeys().contains(key)) {
        names.add(s.id());
      }
    }
    return names;
  }

  /**
   * Stores a flag's value under its key. Picocli also "sets" a flag that was not given, to null:
   * that leaves no entry, so that only flags the user gave reach the spec.
   */
  private static <T> ISetter setter(String key, Map<String, T> values) {
    return new ISetter() {
      @Override
      @SuppressWarnings("unchecked")
      public <V> V set(V value) {
        V previous = (V) values.get(key);
        if (value == null) {
          values.remove(key);
        } else {
          values.put(key, (T) value);
        }
        return previous;
      }
    };
  }
}
