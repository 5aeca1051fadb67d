package io.scoreflow.model;

import java.util.Locale;

/**
 * What {@code scoreflow model summary} reports.
 *
 * @param name configuration name
 * @param nf base width
 * @param params all parameters (the reference's {@code sum(p.numel() for p in parameters())})
 * @param trainableParams parameters that receive gradients (all but the frozen Fourier weights)
 * @param tensors number of parameter tensors (buffers excluded)
 */
public record ModelSummary(String name, int nf, long params, long trainableParams, int tensors) {

  /** One JSON object; the parameter count under key {@code params}. */
  public String toJson() {
    return String.format(
        Locale.ROOT,
        "{\"name\":\"%s\",\"nf\":%d,\"params\":%d,\"trainable_params\":%d,\"tensors\":%d}",
        name.replace("\\", "\\\\").replace("\"", "\\\""),
        nf,
        params,
        trainableParams,
        tensors);
  }
}
