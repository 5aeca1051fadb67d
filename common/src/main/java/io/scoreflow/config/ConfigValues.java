package io.scoreflow.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.scoreflow.InvalidInputException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The typed reading of config values, and the one wording of a value that is not what its key
 * takes: {@code scoreflow.train.batch-size = "abc": expected a whole number (my.conf:3)}. {@link
 * ConfigSchema} checks every key that reference.conf types with these rules when a config is
 * loaded; the settings records and the optional keys that reference.conf leaves untyped ({@code
 * null}) read through them, so a bad value is an {@link InvalidInputException} naming the key, the
 * value and what was expected, never a {@link ConfigException} from deep inside a getter.
 */
public final class ConfigValues {

  /** What a key takes, as reference.conf's default shows it. */
  public enum Kind {
    /** An integral number (a quoted one and an integral double count: HOCON reads them so). */
    WHOLE("a whole number"),
    /** A finite number. */
    NUMBER("a number"),
    BOOLEAN("true or false"),
    /** A non-negative duration with a unit ({@code 30s}, {@code 10m}; a bare 0 counts). */
    DURATION("a duration with a unit, such as 30s or 10m"),
    /** Any scalar (a number or boolean reads as its text). */
    STRING("a string"),
    LIST("a list [...]"),
    OBJECT("a block of keys { ... }"),
    /** Anything: a key that reference.conf declares as {@code null} is checked where it is read. */
    ANY("anything");

    private final String expected;

    Kind(String expected) {
      this.expected = expected;
    }

    /** How an error names what the key takes. */
    public String expected() {
      return expected;
    }
  }

  private static final Set<String> TRUE = Set.of("true", "yes", "on");
  private static final Set<String> FALSE = Set.of("false", "no", "off");

  private ConfigValues() {}

  /** The whole number at {@code path}. */
  public static long whole(Config root, String path) {
    return whole(path, value(root, path), Long.MIN_VALUE, Long.MAX_VALUE, Kind.WHOLE.expected());
  }

  /** The whole number at {@code path} in {@code [min, max]}; {@code what} names that range. */
  public static long whole(Config root, String path, long min, long max, String what) {
    return whole(path, value(root, path), min, max, what);
  }

  /** The whole number at {@code path}, which must fit an {@code int}. */
  public static int wholeInt(Config root, String path) {
    return (int)
        whole(path, value(root, path), Integer.MIN_VALUE, Integer.MAX_VALUE, "a whole number");
  }

  /** The finite number at {@code path}. */
  public static double number(Config root, String path) {
    return number(path, value(root, path));
  }

  /** The boolean at {@code path} (true/false, yes/no, on/off, as HOCON reads them). */
  public static boolean bool(Config root, String path) {
    return bool(path, value(root, path));
  }

  /** The non-negative duration at {@code path}. */
  public static Duration duration(Config root, String path) {
    return duration(path, value(root, path));
  }

  /** The string at {@code path} (a number or boolean as its text). */
  public static String string(Config root, String path) {
    return string(path, value(root, path));
  }

  /** The list of {@code int}s at {@code path}. */
  public static List<Integer> wholeList(Config root, String path) {
    ConfigValue v = value(root, path);
    if (!(v instanceof ConfigList list)) {
      throw bad(path, v, "a list of whole numbers");
    }
    List<Integer> out = new ArrayList<>();
    try {
      for (ConfigValue e : list) {
        out.add((int) whole(path, e, Integer.MIN_VALUE, Integer.MAX_VALUE, "a whole number"));
      }
    } catch (InvalidInputException e) {
      throw bad(path, v, "a list of whole numbers");
    }
    return out;
  }

  /**
   * Checks that {@code v}, the value at {@code path}, is of {@code kind}; a list's elements are
   * checked against {@code element} (null: anything).
   *
   * @throws InvalidInputException naming the key, the value and what {@code kind} takes
   */
  public static void check(String path, ConfigValue v, Kind kind, Kind element) {
    switch (kind) {
      case WHOLE -> whole(path, v, Long.MIN_VALUE, Long.MAX_VALUE, kind.expected());
      case NUMBER -> number(path, v);
      case BOOLEAN -> bool(path, v);
      case DURATION -> duration(path, v);
      case STRING -> string(path, v);
      case LIST -> {
        if (!(v instanceof ConfigList list)) {
          throw bad(path, v, listOf(element));
        }
        if (element != null && element != Kind.ANY) {
          for (ConfigValue e : list) {
            try {
              check(path, e, element, null);
            } catch (InvalidInputException ignored) {
              throw bad(path, v, listOf(element));
            }
          }
        }
      }
      case OBJECT -> {
        if (v.valueType() != ConfigValueType.OBJECT) {
          throw bad(path, v, kind.expected());
        }
      }
      case ANY -> {}
    }
  }

  private static String listOf(Kind element) {
    return switch (element == null ? Kind.ANY : element) {
      case WHOLE -> "a list of whole numbers";
      case NUMBER -> "a list of numbers";
      case STRING -> "a list of strings";
      default -> Kind.LIST.expected();
    };
  }

  /**
   * The one wording of a bad value: {@code KEY = VALUE: expected WHAT (FILE:LINE)}.
   *
   * @param expected what the key takes, e.g. "a whole number"
   */
  public static InvalidInputException bad(String path, ConfigValue v, String expected) {
    return new InvalidInputException(
        path + " = " + render(v) + ": expected " + expected + where(v.origin()));
  }

  /**
   * A value as a config shows it, on one line: {@code "abc"}, {@code 3.5}, {@code [1,2]}; a number
   * as it was written ({@code 1.0}, which HOCON keeps as the integer 1).
   */
  public static String render(ConfigValue v) {
    if (v.valueType() == ConfigValueType.NUMBER) {
      return ConfigFactory.empty().withValue("n", v).getString("n");
    }
    return v.render(ConfigRenderOptions.concise());
  }

  /**
   * Where a value was set, as {@code " (FILE:LINE)"}, {@code " (preset NAME:LINE)"} or {@code "
   * (--set)"}; empty for reference.conf's defaults and values made in code.
   */
  public static String where(ConfigOrigin origin) {
    if (origin == null) {
      return "";
    }
    String line = origin.lineNumber() > 0 ? ":" + origin.lineNumber() : "";
    if (origin.filename() != null) {
      return " (" + origin.filename() + line + ")";
    }
    String resource = origin.resource();
    if (resource != null && resource.startsWith(Configs.PRESETS)) {
      return " (preset " + resource.substring(Configs.PRESETS.length()) + line + ")";
    }
    String description = origin.description();
    if (description != null && description.startsWith(Configs.SET_ORIGIN)) {
      return " (--set)";
    }
    return "";
  }

  private static ConfigValue value(Config root, String path) {
    if (!root.hasPathOrNull(path)) {
      throw new InvalidInputException(path + " is missing");
    }
    return root.getValue(path);
  }

  private static long whole(String path, ConfigValue v, long min, long max, String what) {
    Object raw = v.unwrapped();
    Long n = null;
    if (raw instanceof Integer || raw instanceof Long) {
      n = ((Number) raw).longValue();
    } else if (raw instanceof Double d && d == Math.rint(d) && Math.abs(d) < 0x1p53) {
      n = d.longValue();
    } else if (raw instanceof String s) {
      try {
        n = Long.parseLong(s.trim());
      } catch (NumberFormatException e) {
        n = null;
      }
    }
    if (n == null || n < min || n > max) {
      throw bad(path, v, what);
    }
    return n;
  }

  private static double number(String path, ConfigValue v) {
    Object raw = v.unwrapped();
    double d = Double.NaN;
    if (raw instanceof Number num) {
      d = num.doubleValue();
    } else if (raw instanceof String s) {
      try {
        d = Double.parseDouble(s.trim());
      } catch (NumberFormatException e) {
        d = Double.NaN;
      }
    }
    if (!Double.isFinite(d)) {
      throw bad(path, v, Kind.NUMBER.expected());
    }
    return d;
  }

  private static boolean bool(String path, ConfigValue v) {
    Object raw = v.unwrapped();
    if (raw instanceof Boolean b) {
      return b;
    }
    if (raw instanceof String s && TRUE.contains(s)) {
      return true;
    }
    if (raw instanceof String s && FALSE.contains(s)) {
      return false;
    }
    throw bad(path, v, Kind.BOOLEAN.expected());
  }

  private static Duration duration(String path, ConfigValue v) {
    Object raw = v.unwrapped();
    if (raw instanceof Number n && n.doubleValue() == 0) {
      return Duration.ZERO;
    }
    if (raw instanceof String) {
      try {
        Duration d = ConfigFactory.empty().withValue("d", v).getDuration("d");
        if (!d.isNegative()) {
          return d;
        }
      } catch (ConfigException e) {
        // not a duration: the error below names the key
      }
    }
    throw bad(path, v, Kind.DURATION.expected());
  }

  private static String string(String path, ConfigValue v) {
    return switch (v.valueType()) {
      case STRING, NUMBER, BOOLEAN -> ConfigFactory.empty().withValue("s", v).getString("s");
      default -> throw bad(path, v, Kind.STRING.expected());
    };
  }
}
