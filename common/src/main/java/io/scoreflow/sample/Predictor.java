package io.scoreflow.sample;

import io.scoreflow.InvalidInputException;
import io.scoreflow.sde.ForwardSde;
import io.scoreflow.sde.Schedule;

/**
 * The predictor of a predictor–corrector sampler (score_sde's {@code sampling.py}): one step from
 * time s to s − η. Every predictor there is affine in the state and the score, {@code x̄ = a x + b
 * score(x, s)} and {@code x = x̄ + c ξ}, with scalars that depend on the SDE and the time only, so
 * a predictor is the rule that gives {@link Step (a, b, c)}.
 */
public sealed interface Predictor
    permits Predictor.EulerMaruyama, Predictor.ReverseDiffusion, Predictor.Ancestral {

  /** The name the CLI and config use. */
  String name();

  /** The coefficients of the step from s to s − η. */
  Step at(ForwardSde sde, double s, double eta);

  /**
   * One predictor step: mean {@code a x + b score(x, s)}, then noise of standard deviation {@code
   * noise}.
   */
  record Step(double a, double b, double noise) {}

  /** Euler–Maruyama on the reverse SDE: {@code x̄ = (1 + η f) x + η g² s}, noise {@code √η g}. */
  record EulerMaruyama() implements Predictor {
    @Override
    public String name() {
      return "euler-maruyama";
    }

    @Override
    public Step at(ForwardSde sde, double s, double eta) {
      double g = sde.g(s);
      return new Step(1 + eta * sde.f(s), eta * g * g, Math.sqrt(eta) * g);
    }
  }

  /**
   * score_sde's reverse-diffusion predictor: the reverse of the forward chain's discretisation,
   * {@code x̄ = x − f_i(x) + G_i² s}, noise {@code G_i}. For VP (DDPM) {@code f_i(x) = (√α − 1) x},
   * {@code G_i² = β}; for VE (SMLD) {@code f_i = 0}, {@code G_i² = σ²(s) − σ²(s − η)}; for other
   * SDEs the default Euler discretisation, which makes it Euler–Maruyama.
   */
  record ReverseDiffusion() implements Predictor {
    @Override
    public String name() {
      return "reverse-diffusion";
    }

    @Override
    public Step at(ForwardSde sde, double s, double eta) {
      return switch (family(sde)) {
        case VP -> {
          double beta = DiscreteChain.beta(sde, s, eta);
          yield new Step(2 - Math.sqrt(1 - beta), beta, Math.sqrt(beta));
        }
        case VE -> {
          double jump = DiscreteChain.varianceJump(sde, s, eta);
          yield new Step(1, jump, Math.sqrt(jump));
        }
        default -> new EulerMaruyama().at(sde, s, eta);
      };
    }
  }

  /**
   * Ancestral sampling of the forward chain's posterior q(x_{s−η} | x_s, x̂_0) with the score in
   * place of the data: DDPM's {@code x̄ = (x + β s) / √α}, noise {@code √β}, for VP; SMLD's {@code
   * x̄ = x + Δ s}, noise {@code √(σ²(s − η) Δ / σ²(s))} with {@code Δ = σ²(s) − σ²(s − η)}, for VE.
   * Only these two families have that chain.
   */
  record Ancestral() implements Predictor {
    @Override
    public String name() {
      return "ancestral";
    }

    @Override
    public Step at(ForwardSde sde, double s, double eta) {
      return switch (family(sde)) {
        case VP -> {
          double beta = DiscreteChain.beta(sde, s, eta);
          double root = Math.sqrt(1 - beta);
          yield new Step(1 / root, beta / root, Math.sqrt(beta));
        }
        case VE -> {
          double jump = DiscreteChain.varianceJump(sde, s, eta);
          double before = sde.variance(DiscreteChain.before(s, eta));
          yield new Step(1, jump, Math.sqrt(before * jump / sde.variance(s)));
        }
        default -> throw notDefined(sde);
      };
    }
  }

  /** The predictor named {@code name} for {@code sde}, checked against it. */
  static Predictor of(String name, ForwardSde sde) {
    Predictor p =
        switch (name) {
          case "euler-maruyama", "em" -> new EulerMaruyama();
          case "reverse-diffusion" -> new ReverseDiffusion();
          case "ancestral" -> new Ancestral();
          default ->
              throw new InvalidInputException(
                  "predictor '"
                      + name
                      + "' is not one of euler-maruyama, reverse-diffusion, ancestral");
        };
    if (p instanceof Ancestral && family(sde) == Schedule.Family.GENERIC) {
      throw notDefined(sde);
    }
    return p;
  }

  private static InvalidInputException notDefined(ForwardSde sde) {
    return new InvalidInputException(
        "predictor 'ancestral' is not defined for SDE '"
            + sde.name()
            + "': it needs the discrete Markov chain of a VP (DDPM) or VE (SMLD) schedule");
  }

  private static Schedule.Family family(ForwardSde sde) {
    return sde.spec().schedule().family();
  }
}
