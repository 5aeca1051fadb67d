package io.scoreflow.cli.model;

import io.scoreflow.cli.output.Json;
import io.scoreflow.model.ModelSummary;
import io.scoreflow.model.ScoreNetConfig;
import io.scoreflow.model.ScoreNetworks;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code scoreflow model}: the NCSN++ / DDPM++ networks. */
@Command(
    name = "model",
    mixinStandardHelpOptions = true,
    description = "The score networks: parameter counts and a forward pass from weights.",
    subcommands = {ModelCommand.Summary.class, ModelCommand.Forward.class})
public final class ModelCommand {

  /** The architecture flags both subcommands take. */
  static final class Arch {
    @Option(
        names = "--arch",
        required = true,
        paramLabel = "A",
        description =
            "ddpmpp (VP, cifar10_ddpmpp_continuous) or ncsnpp (VE, cifar10_ncsnpp_continuous).")
    String arch;

    @Option(names = "--deep", description = "The deep variant (num_res_blocks 8).")
    boolean deep;

    @Option(names = "--nf", paramLabel = "N", description = "Width (default 128, the full size).")
    int nf;

    ScoreNetConfig config() {
      return ScoreNetConfig.forArch(arch, deep, nf);
    }
  }

  @Command(
      name = "summary",
      mixinStandardHelpOptions = true,
      description = "Parameter counts of a network (JSON key params).")
  static final class Summary implements Callable<Integer> {
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @picocli.CommandLine.Mixin Arch arch;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() {
      ModelSummary s = ScoreNetworks.summary(arch.config());
      PrintWriter out = spec.commandLine().getOut();
      if (json) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", s.name());
        m.put("nf", s.nf());
        m.put("deep", arch.deep);
        m.put("params", s.params());
        m.put("trainable_params", s.trainableParams());
        m.put("tensors", s.tensors());
        Json.print(out, m);
      } else {
        out.printf(
            Locale.ROOT,
            "%s nf=%d: %,d parameters (%,d trainable) in %d tensors%n",
            s.name(),
            s.nf(),
            s.params(),
            s.trainableParams(),
            s.tensors());
      }
      return 0;
    }
  }

  @Command(
      name = "forward",
      mixinStandardHelpOptions = true,
      description = {
        "Runs the network on x and cond from a safetensors file and writes out (eval mode).",
        "ddpmpp: cond = 999 t, out = -std(t) * score; ncsnpp: cond = sigma, x in [0,1], out = score."
      })
  static final class Forward implements Callable<Integer> {
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @picocli.CommandLine.Mixin Arch arch;

    @Option(names = "--weights", required = true, paramLabel = "W", description = "state_dict.")
    Path weights;

    @Option(names = "--input", required = true, paramLabel = "IO", description = "x and cond.")
    Path input;

    @Option(names = "--output", required = true, paramLabel = "OUT", description = "Writes out.")
    Path output;

    @Override
    public Integer call() {
      try {
        var shape = ScoreNetworks.forwardFile(arch.config(), weights, input, output);
        spec.commandLine().getOut().println("wrote out " + shape + " to " + output);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return 0;
    }
  }
}
