package io.scoreflow.cli.theory;

import io.scoreflow.cli.output.Describe;
import io.scoreflow.cli.output.Json;
import io.scoreflow.cli.output.Progress;
import io.scoreflow.sde.ForwardSde;
import io.scoreflow.theory.GaussianLaw;
import io.scoreflow.theory.LearnedScore;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code scoreflow theory learned}: the exact-score W2 next to a learned score's. */
@Command(
    name = "learned",
    mixinStandardHelpOptions = true,
    description = {
      "Trains the MLP score network by denoising score matching on N(M 1, S^2 I_D), samples with"
          + " Euler-Maruyama (K steps, EMA weights), and reports the W2 between the Gaussian fit"
          + " of the samples and the data next to the exact-score W2 of the theory lab."
    })
public final class TheoryLearnedCommand implements Callable<Integer> {

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--sde", required = true, paramLabel = "NAME", description = "The schedule.")
  String name;

  @Mixin SdeOptions sdeOptions;

  @Mixin GaussianDataOptions data;

  @Option(names = "--train-steps", required = true, paramLabel = "N", description = "DSM steps.")
  int trainSteps;

  @Option(names = "--steps", required = true, paramLabel = "K", description = "Sampler steps.")
  int steps;

  @Option(names = "--batch", paramLabel = "B", description = "Training batch (default 512).")
  int batch = 512;

  @Option(
      names = "--samples",
      paramLabel = "N",
      description = "Samples for the Gaussian fit (default 20000).")
  int samples = 20_000;

  @Option(names = "--hidden", paramLabel = "H", description = "MLP width (default 128).")
  int hidden = 128;

  @Option(names = "--layers", paramLabel = "L", description = "MLP hidden layers (default 3).")
  int layers = 3;

  @Option(names = "--lr", paramLabel = "LR", description = "Adam learning rate (default 2e-3).")
  double lr = 2e-3;

  @Option(names = "--warmup", paramLabel = "N", description = "Warm-up steps (default 100).")
  int warmup = 100;

  @Option(names = "--ema", paramLabel = "RATE", description = "EMA rate (default 0.999).")
  double ema = 0.999;

  @Option(names = "--seed", paramLabel = "S", description = "Seed (default 42).")
  long seed = 42;

  @Option(names = "--json", description = "Print JSON.")
  boolean json;

  @Override
  public Integer call() {
    ForwardSde sde = sdeOptions.single(name);
    GaussianLaw target = data.law();
    LearnedScore.Options options =
        new LearnedScore.Options(
            trainSteps, steps, batch, samples, hidden, layers, lr, warmup, ema, seed);
    Progress progress = new Progress(spec.commandLine().getErr(), "training", trainSteps);
    LearnedScore.Result r =
        LearnedScore.run(
            sde,
            target,
            options,
            step ->
                progress.update(
                    step.step() + 1, String.format(Locale.ROOT, "loss %.4f", step.loss())));
    PrintWriter out = spec.commandLine().getOut();
    double[] sampleStd = new double[target.dim()];
    for (int i = 0; i < sampleStd.length; i++) {
      sampleStd[i] = Math.sqrt(r.fit().covariance().get(i, i));
    }
    if (json) {
      Map<String, Object> result = new LinkedHashMap<>();
      result.put("w2_learned", r.w2Learned());
      result.put("w2_exact", r.w2Exact());
      result.put("sde", sde.name());
      result.put("params", Describe.parameters(sde));
      result.put("dim", target.dim());
      result.put("data_mean", target.mean());
      result.put("data_std", target.std());
      result.put("train_steps", trainSteps);
      result.put("steps", steps);
      result.put("samples", samples);
      result.put("final_loss", r.finalLoss());
      result.put("sample_mean", r.fit().mean());
      result.put("sample_std", sampleStd);
      result.put("exact_mean", r.exactLaw().mean());
      result.put("exact_std", r.exactLaw().std());
      result.put("train_seconds", r.trainMillis() / 1000.0);
      result.put("sample_seconds", r.sampleMillis() / 1000.0);
      Json.print(out, result);
      return 0;
    }
    out.printf(
        Locale.ROOT,
        "%s, K = %d, data N(%s, %s^2 I_%d), %d DSM steps (final loss %.4f)%n",
        Describe.sde(sde),
        steps,
        target.mean(),
        target.std(),
        target.dim(),
        trainSteps,
        r.finalLoss());
    out.printf(
        Locale.ROOT,
        "w2_learned  %s  (Gaussian fit of %d samples)%n",
        Describe.g(r.w2Learned()),
        samples);
    out.printf(
        Locale.ROOT,
        "w2_exact    %s  (exact score, Gaussian recursion)%n",
        Describe.g(r.w2Exact()));
    out.printf(Locale.ROOT, "difference  %s%n", Describe.g(r.w2Learned() - r.w2Exact()));
    out.printf(
        Locale.ROOT,
        "time        train %.1fs, sample %.1fs%n",
        r.trainMillis() / 1000.0,
        r.sampleMillis() / 1000.0);
    return 0;
  }
}
