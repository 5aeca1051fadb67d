package io.scoreflow.sde;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/** The named schedules of DESIGN.md (with the paper's names) and the generic one. */
public enum Schedule {
  VP_LINEAR("vp-linear", Family.VP, "original", "beta-min", "beta-max"),
  VP_CONSTANT("vp-constant", Family.VP, "v1", "beta"),
  VP_POLY("vp-poly", Family.VP, "v2", "beta-min", "beta-max", "rho"),
  VP_EXP("vp-exp", Family.VP, "v3", "beta-min", "beta-max"),
  VE_EXP("ve-exp", Family.VE, "original", "sigma-min", "sigma-max"),
  VE_CONSTANT("ve-constant", Family.VE, "v1", "sigma-min", "sigma-max"),
  VE_SQRT("ve-sqrt", Family.VE, "v2", "sigma-min", "sigma-max"),
  VE_POLY("ve-poly", Family.VE, "v3", "sigma-min", "sigma-max", "rho"),
  /** User-given f and g (expressions in t), integrated by adaptive quadrature. */
  GENERIC("generic", Family.GENERIC, "-");

  /** Which closed forms apply. */
  public enum Family {
    VP,
    VE,
    GENERIC
  }

  /** Parameter keys of the generic schedule: expressions in {@code t}. */
  public static final List<String> EXPRESSION_KEYS = List.of("f", "g");

  private final String id;
  private final Family family;
  private final String paperName;
  private final List<String> parameterKeys;

  Schedule(String id, Family family, String paperName, String... parameterKeys) {
    this.id = id;
    this.family = family;
    this.paperName = paperName;
    this.parameterKeys = List.of(parameterKeys);
  }

  /** The name used in flags and configs, e.g. {@code vp-linear}. */
  public String id() {
    return id;
  }

  public Family family() {
    return family;
  }

  /** The name the paper gives the schedule within its family (original, v1, v2, v3). */
  public String paperName() {
    return paperName;
  }

  /** The numeric parameters this schedule takes, in the order they are reported. */
  public List<String> parameterKeys() {
    return parameterKeys;
  }

  /** The schedule called {@code id}, or an error listing the known names. */
  public static Schedule byId(String id) {
    for (Schedule s : values()) {
      if (s.id.equals(id)) {
        return s;
      }
    }
    throw new io.scoreflow.InvalidInputException(
        "unknown SDE '" + id + "' (known: " + knownIds() + ")");
  }

  /** The known names, comma-separated. */
  public static String knownIds() {
    return Arrays.stream(values()).map(Schedule::id).collect(Collectors.joining(", "));
  }
}
