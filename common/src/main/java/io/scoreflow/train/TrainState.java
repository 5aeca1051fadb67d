package io.scoreflow.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.scoreflow.data.DataCursor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A host copy of everything a replica needs to continue exactly: parameters, EMA and Adam moments
 * by parameter name, the update counters, the next step and the data cursor. Taking it is the only
 * time training waits for a checkpoint; writing it to disk happens elsewhere.
 */
public record TrainState(
    long nextStep,
    DataCursor cursor,
    long adamUpdates,
    long emaUpdates,
    Map<String, float[]> model,
    Map<String, float[]> ema,
    Map<String, float[]> adamFirstMoment,
    Map<String, float[]> adamSecondMoment) {

  /** Copies the trainer's state to the host. */
  public static TrainState capture(Trainer trainer) {
    FlatParameters flat = trainer.parameters();
    try (NDManager scope = trainer.ema().shadow().getManager().newSubManager()) {
      return new TrainState(
          trainer.step(),
          trainer.stream().cursor(),
          trainer.adam().updates(),
          trainer.ema().updates(),
          host(flat, flat.values(scope), scope),
          host(flat, trainer.ema().shadow(), scope),
          host(flat, trainer.adam().firstMoment(), scope),
          host(flat, trainer.adam().secondMoment(), scope));
    }
  }

  /** Puts this state into a trainer built with the same network and config. */
  public void restoreInto(Trainer trainer) {
    FlatParameters flat = trainer.parameters();
    try (NDManager scope = trainer.ema().shadow().getManager().newSubManager()) {
      flat.assign(device(flat, model, scope));
      trainer.ema().restore(device(flat, ema, scope), emaUpdates);
      trainer
          .adam()
          .restore(
              device(flat, adamFirstMoment, scope),
              device(flat, adamSecondMoment, scope),
              adamUpdates);
    }
    trainer.stream().seek(cursor);
    trainer.resumeAt(nextStep);
  }

  private static Map<String, float[]> host(FlatParameters flat, NDArray vector, NDManager scope) {
    Map<String, float[]> out = new LinkedHashMap<>();
    List<NDArray> pieces = flat.unflatten(vector, scope);
    for (int i = 0; i < pieces.size(); i++) {
      out.put(flat.names().get(i), pieces.get(i).toFloatArray());
    }
    return out;
  }

  private static NDArray device(FlatParameters flat, Map<String, float[]> byName, NDManager scope) {
    float[] all = new float[Math.toIntExact(flat.size())];
    int offset = 0;
    for (String name : flat.names()) {
      float[] values = byName.get(name);
      if (values == null) {
        throw new io.scoreflow.InvalidInputException("state has no tensor " + name);
      }
      System.arraycopy(values, 0, all, offset, values.length);
      offset += values.length;
    }
    if (offset != all.length) {
      throw new io.scoreflow.InvalidInputException(
          "state holds " + offset + " scalars, the network " + all.length);
    }
    return scope.create(all);
  }
}
