package io.scoreflow.eval;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.JniUtils;
import io.scoreflow.InvalidInputException;
import io.scoreflow.data.SampleShape;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The standard Inception-v3 of FID and Inception Score: the TorchScript module {@code
 * inception-2015-12-05.pt} that StyleGAN2-ADA and clean-fid use (NVIDIA's export of the 2015
 * TensorFlow graph), loaded through DJL's PyTorch engine. Its contract, as those codebases call it:
 * {@code forward(img, return_features, use_fp16, no_output_bias)} with {@code img} N×3×H×W in [0,
 * 255] (it resizes to 299×299 itself); {@code return_features = true} gives the 2048-d pool
 * features (FID), {@code no_output_bias = true} the 1008 logits without the output bias (IS).
 * One-channel images are repeated to three, as those codebases do.
 *
 * <p>The file is not shipped (it is NVIDIA's, ~100 MB): point {@code scoreflow.eval.inception} to a
 * copy of {@code
 * https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/metrics/inception-2015-12-05.pt}.
 */
public final class InceptionNet implements AutoCloseable {

  /** The feature space's name (statistics files, logs). */
  public static final String NAME = "inception-v3";

  private final NDManager manager;
  private final PtSymbolBlock block;

  private InceptionNet(NDManager manager, PtSymbolBlock block) {
    this.manager = manager;
    this.block = block;
  }

  /** Loads the TorchScript module in {@code file} on {@code device}; a bad file is one line. */
  public static InceptionNet load(Path file, Device device) {
    if (!Files.isRegularFile(file)) {
      throw new InvalidInputException(
          "scoreflow.eval.inception: no file "
              + file
              + " (download inception-2015-12-05.pt, see docs/samplers-and-evaluation.md, section"
              + " \"FID and Inception Score\")");
    }
    NDManager manager = NDManager.newBaseManager(device, "PyTorch");
    try {
      PtSymbolBlock block =
          JniUtils.loadModule(
              (PtNDManager) manager, file, true, new String[0], new String[0], false);
      JniUtils.enableInferenceMode(block);
      return new InceptionNet(manager, block);
    } catch (RuntimeException e) {
      manager.close();
      throw new InvalidInputException(
          "scoreflow.eval.inception: "
              + file
              + " is not a loadable TorchScript module: "
              + firstLine(e.getMessage()),
          e);
    }
  }

  /** Features (N×{@code dim}) and softmax class probabilities (N×classes) of some images. */
  public record Outputs(double[] features, int dim, double[] probabilities, int classes) {}

  /** Runs {@code count} images (N×C×H×W in [0, 1]) in batches of {@code batch}. */
  public synchronized Outputs run(float[] images, SampleShape.Image shape, int count, int batch) {
    double[] features = null;
    double[] probabilities = null;
    int dim = 0;
    int classes = 0;
    for (int done = 0; done < count; done += batch) {
      int n = Math.min(batch, count - done);
      try (NDManager scope = manager.newSubManager()) {
        float[] slice = new float[n * shape.size()];
        System.arraycopy(images, done * shape.size(), slice, 0, slice.length);
        NDArray x =
            scope
                .create(slice, new Shape(n, shape.channels(), shape.height(), shape.width()))
                .clip(0f, 1f)
                .mul(255f);
        if (shape.channels() == 1) {
          x = x.repeat(1, 3);
        }
        float[] f = forward(scope, x, true, false);
        float[] logits = forward(scope, x, false, true);
        if (features == null) {
          dim = f.length / n;
          classes = logits.length / n;
          features = new double[count * dim];
          probabilities = new double[count * classes];
        }
        for (int i = 0; i < f.length; i++) {
          features[done * dim + i] = f[i];
        }
        softmaxRows(logits, n, classes, probabilities, done * classes);
      }
    }
    return new Outputs(features, dim, probabilities, classes);
  }

  private float[] forward(NDManager scope, NDArray x, boolean returnFeatures, boolean noBias) {
    IValue[] inputs = {
      IValue.from((PtNDArray) x),
      IValue.from(returnFeatures),
      IValue.from(false),
      IValue.from(noBias)
    };
    try {
      IValue out = block.forward(inputs);
      try {
        return out.toTensor((PtNDManager) scope).toFloatArray();
      } finally {
        out.close();
      }
    } finally {
      for (IValue v : inputs) {
        v.close();
      }
    }
  }

  private static void softmaxRows(float[] logits, int n, int k, double[] out, int offset) {
    for (int r = 0; r < n; r++) {
      double max = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < k; j++) {
        max = Math.max(max, logits[r * k + j]);
      }
      double sum = 0;
      for (int j = 0; j < k; j++) {
        sum += Math.exp(logits[r * k + j] - max);
      }
      for (int j = 0; j < k; j++) {
        out[offset + r * k + j] = Math.exp(logits[r * k + j] - max) / sum;
      }
    }
  }

  /**
   * The Inception Score of class probabilities (N×classes): exp(E_x KL(p(y|x) ‖ p(y))), the mean
   * over {@code splits} equal splits, as StyleGAN2-ADA's and the original code compute it.
   */
  public static double inceptionScore(double[] p, int n, int classes, int splits) {
    double total = 0;
    for (int s = 0; s < splits; s++) {
      int from = s * n / splits;
      int to = (s + 1) * n / splits;
      double[] marginal = new double[classes];
      for (int i = from; i < to; i++) {
        for (int j = 0; j < classes; j++) {
          marginal[j] += p[i * classes + j] / (to - from);
        }
      }
      double kl = 0;
      for (int i = from; i < to; i++) {
        for (int j = 0; j < classes; j++) {
          double q = p[i * classes + j];
          if (q > 0) {
            kl += q * (Math.log(q) - Math.log(marginal[j]));
          }
        }
      }
      total += Math.exp(kl / (to - from));
    }
    return total / splits;
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "(no message)";
    }
    int nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }

  @Override
  public void close() {
    block.close();
    manager.close();
  }
}
