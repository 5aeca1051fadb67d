package io.scoreflow.cli.output;

import io.scoreflow.sde.ForwardSde;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/** How the CLI names an SDE with its parameters, in text and in JSON. */
public final class Describe {

  private Describe() {}

  /** e.g. {@code vp-linear(beta-min=0.1, beta-max=20, T=1)}. */
  public static String sde(ForwardSde sde) {
    String params =
        parameters(sde).entrySet().stream()
            .map(e -> e.getKey() + "=" + e.getValue())
            .collect(Collectors.joining(", "));
    return sde.name() + "(" + params + ")";
  }

  /** Every parameter, the horizon and (generic) the expressions, in report order. */
  public static Map<String, Object> parameters(ForwardSde sde) {
    Map<String, Object> params = new LinkedHashMap<>();
    sde.spec().params().forEach((k, v) -> params.put(k, number(v)));
    params.putAll(sde.spec().expressions());
    params.put("T", number(sde.horizon()));
    return params;
  }

  /** A whole number without ".0", anything else as Java prints a double. */
  public static Object number(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return (long) v;
    }
    return v;
  }

  public static String g(double v) {
    return String.format(Locale.ROOT, "%.10g", v);
  }
}
