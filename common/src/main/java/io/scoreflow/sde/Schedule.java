package io.scoreflow.sde;

import static io.scoreflow.InvalidInputException.require;

import io.scoreflow.InvalidInputException;
import io.scoreflow.sde.Parameter.Bound;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The registry of forward SDEs: one entry per schedule of DESIGN.md (with the paper's names) and
 * the generic one. Each entry declares everything the rest of the code needs to know about it — its
 * name in flags and configs, the paper's name, its parameters with defaults and bounds, how to
 * build it from validated parameters, and its row of the paper's Table 2 — so that adding a
 * schedule is one entry here: {@link Sdes}, {@link SdeSpec}, the iteration complexity and the CLI
 * (its flags and its help) all read this list and hold no per-schedule switch of their own.
 */
public enum Schedule {
  VP_LINEAR(
      "vp-linear",
      Family.VP,
      "original",
      List.of(P.BETA_MIN, P.BETA_MAX),
      spec ->
          new VpSde(spec, new BetaSchedule.Linear(spec.param("beta-min"), spec.param("beta-max"))),
      new ComplexityRow(
          6,
          "f = (b+at)/2, g = sqrt(b+at)",
          "d sqrt(log(d/eps)) / eps^2",
          (d, eps, log, spec) -> d * Math.sqrt(log) / (eps * eps))),
  VP_CONSTANT(
      "vp-constant",
      Family.VP,
      "v1",
      List.of(new Parameter.Number("beta", "The noise rate beta", 5.05, P.POSITIVE)),
      spec -> new VpSde(spec, new BetaSchedule.Constant(spec.param("beta"))),
      new ComplexityRow(
          5,
          "f = alpha, g = sigma",
          "d log(d/eps) / eps^2",
          (d, eps, log, spec) -> d * log / (eps * eps))),
  VP_POLY(
      "vp-poly",
      Family.VP,
      "v2",
      List.of(P.BETA_MIN, P.BETA_MAX, P.rho(5.0)),
      spec ->
          new VpSde(
              spec,
              BetaSchedule.Poly.of(
                  spec.param("beta-min"), spec.param("beta-max"), spec.param("rho"))),
      new ComplexityRow(
          7,
          "f = (b+at)^rho/2, g = (b+at)^(rho/2)",
          "d (log(d/eps))^(1/(rho+1)) / eps^2",
          (d, eps, log, spec) -> d * Math.pow(log, 1 / (spec.param("rho") + 1)) / (eps * eps),
          spec -> spec.param("rho"))),
  VP_EXP(
      "vp-exp",
      Family.VP,
      "v3",
      List.of(P.BETA_MIN, P.BETA_MAX),
      spec -> new VpSde(spec, BetaSchedule.Exp.of(spec.param("beta-min"), spec.param("beta-max"))),
      new ComplexityRow(
          8,
          "f = a e^(bt)/2, g = sqrt(a) e^(bt/2)",
          "d log(log(d/eps)) / eps^2",
          (d, eps, log, spec) -> {
            require(
                log > 1,
                "vp-exp's K has log(log(d/eps)): it needs d/eps > e, got d/eps=%s",
                d / eps);
            return d * Math.log(log) / (eps * eps);
          })),
  VE_EXP(
      "ve-exp",
      Family.VE,
      "original",
      List.of(P.SIGMA_MIN, P.SIGMA_MAX),
      spec ->
          new VeSde(spec, SigmaSchedule.Exp.of(spec.param("sigma-min"), spec.param("sigma-max"))),
      new ComplexityRow(
          1,
          "f = 0, g = a e^(bt)",
          "d log(d/eps) / eps^2",
          (d, eps, log, spec) -> d * log / (eps * eps))),
  VE_CONSTANT(
      "ve-constant",
      Family.VE,
      "v1",
      List.of(P.SIGMA_MIN, P.SIGMA_MAX),
      spec -> {
        double min = spec.param("sigma-min");
        double max = spec.param("sigma-max");
        return new VeSde(spec, new SigmaSchedule.Linear(min, max * max - min * min));
      },
      new ComplexityRow(
          2,
          "f = 0, g = a",
          "d^(3/2) log(d/eps) / eps^3",
          (d, eps, log, spec) -> Math.pow(d, 1.5) * log / (eps * eps * eps))),
  VE_SQRT(
      "ve-sqrt",
      Family.VE,
      "v2",
      List.of(P.SIGMA_MIN, P.SIGMA_MAX),
      spec -> {
        double min = spec.param("sigma-min");
        double max = spec.param("sigma-max");
        return new VeSde(spec, new SigmaSchedule.Quadratic(min, max * max - min * min));
      },
      new ComplexityRow(
          3,
          "f = 0, g = sqrt(2at)",
          "d^(5/4) / eps^(5/2)",
          (d, eps, log, spec) -> Math.pow(d, 1.25) / Math.pow(eps, 2.5))),
  VE_POLY(
      "ve-poly",
      Family.VE,
      "v3",
      List.of(P.SIGMA_MIN, P.SIGMA_MAX, P.rho(10.0)),
      spec ->
          new VeSde(
              spec,
              SigmaSchedule.Poly.of(
                  spec.param("sigma-min"), spec.param("sigma-max"), spec.param("rho"))),
      // In σ-form, σ = (b+at)^ρ gives g = √(2ρa) (b+at)^(ρ−½): the row's exponent is c = ρ − ½.
      new ComplexityRow(
          4,
          "f = 0, g = (b+at)^c",
          "d^(1/(2(2c+1))+1) / eps^(1/(2c+1)+2)",
          (d, eps, log, spec) -> {
            double q = 2 * (spec.param("rho") - 0.5) + 1;
            return Math.pow(d, 1 / (2 * q) + 1) / Math.pow(eps, 1 / q + 2);
          },
          spec -> spec.param("rho") - 0.5)),
  /** User-given f and g (expressions in t), integrated by adaptive quadrature; not in Table 2. */
  GENERIC(
      "generic",
      Family.GENERIC,
      "-",
      List.of(
          new Parameter.Expression("f", "f(t), e.g. '0.5*(0.1+19.9*t)'"),
          new Parameter.Expression("g", "g(t), e.g. 'sqrt(0.1+19.9*t)'")),
      Sdes::fromExpressions,
      null);

  /** Which closed forms apply. */
  public enum Family {
    VP,
    VE,
    GENERIC
  }

  /**
   * The parameters several schedules share: one declaration each, so that one flag means one thing.
   */
  private static final class P {
    static final Bound POSITIVE = new Bound.Positive();
    static final Parameter.Number BETA_MIN =
        new Parameter.Number("beta-min", "Smallest noise rate beta(0)", 0.1, POSITIVE);
    static final Parameter.Number BETA_MAX =
        new Parameter.Number(
            "beta-max", "Largest noise rate beta(1)", 20.0, new Bound.AtLeast("beta-min"));
    static final Parameter.Number SIGMA_MIN =
        new Parameter.Number("sigma-min", "Smallest noise level sigma(0)", 0.01, POSITIVE);
    static final Parameter.Number SIGMA_MAX =
        new Parameter.Number(
            "sigma-max", "Largest noise level sigma(1)", 50.0, new Bound.Above("sigma-min"));

    /** The exponent of the poly schedules; its default differs between VP and VE. */
    static Parameter.Number rho(double defaultValue) {
      return new Parameter.Number("rho", "The exponent rho", defaultValue, POSITIVE);
    }
  }

  private final String id;
  private final Family family;
  private final String paperName;
  private final List<Parameter.Number> numbers;
  private final List<Parameter.Expression> expressions;
  private final Function<SdeSpec, ForwardSde> build;
  private final ComplexityRow complexityRow;

  Schedule(
      String id,
      Family family,
      String paperName,
      List<? extends Parameter> parameters,
      Function<SdeSpec, ForwardSde> build,
      ComplexityRow complexityRow) {
    this.id = id;
    this.family = family;
    this.paperName = paperName;
    this.numbers = of(parameters, Parameter.Number.class);
    this.expressions = of(parameters, Parameter.Expression.class);
    this.build = build;
    this.complexityRow = complexityRow;
  }

  private static <T extends Parameter> List<T> of(List<? extends Parameter> all, Class<T> kind) {
    return all.stream().filter(kind::isInstance).map(kind::cast).toList();
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

  /** The numeric parameters, in the order they are validated and reported. */
  public List<Parameter.Number> numbers() {
    return numbers;
  }

  /** The expressions in {@code t} this schedule takes (only the generic one takes any). */
  public List<Parameter.Expression> expressions() {
    return expressions;
  }

  /** The keys of {@link #numbers()}. */
  public List<String> parameterKeys() {
    return numbers.stream().map(Parameter::key).toList();
  }

  /** The keys of {@link #expressions()}. */
  public List<String> expressionKeys() {
    return expressions.stream().map(Parameter::key).toList();
  }

  /** This schedule's row of Table 2; empty for the generic schedule, which the table lacks. */
  public Optional<ComplexityRow> complexityRow() {
    return Optional.ofNullable(complexityRow);
  }

  /** The SDE of {@code spec}, whose parameters {@link Sdes#create} has already validated. */
  ForwardSde build(SdeSpec spec) {
    return build.apply(spec);
  }

  /** The schedule called {@code id}, or an error listing the known names. */
  public static Schedule byId(String id) {
    for (Schedule s : values()) {
      if (s.id.equals(id)) {
        return s;
      }
    }
    throw new InvalidInputException("unknown SDE '" + id + "' (known: " + knownIds() + ")");
  }

  /** The known names, comma-separated. */
  public static String knownIds() {
    return Arrays.stream(values()).map(Schedule::id).collect(Collectors.joining(", "));
  }
}
