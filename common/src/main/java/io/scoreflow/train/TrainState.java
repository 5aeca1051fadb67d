package io.scoreflow.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import io.scoreflow.InvalidInputException;
import io.scoreflow.ckpt.CheckpointSnapshot;
import io.scoreflow.ckpt.HostTensor;
import io.scoreflow.ckpt.LoadedCheckpoint;
import io.scoreflow.ckpt.RngState;
import io.scoreflow.data.DataCursor;
import io.scoreflow.math.InPlace;
import io.scoreflow.model.ScoreNetwork;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A host copy of everything a replica needs to continue exactly: the next step, the data cursor,
 * the update counters, and three groups of named tensors — {@code model} and {@code ema} (each a
 * complete state_dict under the PyTorch names, so either file loads as weights on its own) and
 * {@code optimizer} (Adam's {@code exp_avg.NAME} and {@code exp_avg_sq.NAME}), and under local SGD
 * with Nesterov the {@code outer} group (the outer momentum, {@code outer_momentum.NAME}; empty
 * otherwise, and then not written). Taking it is the only time training waits for a checkpoint;
 * writing it to disk happens elsewhere.
 */
public record TrainState(
    long nextStep,
    DataCursor cursor,
    long adamUpdates,
    long emaUpdates,
    List<HostTensor> model,
    List<HostTensor> ema,
    List<HostTensor> optimizer,
    List<HostTensor> outer) {

  public static final String MODEL = "model";
  public static final String EMA = "ema";
  public static final String OPTIMIZER = "optimizer";
  public static final String OUTER = "outer";
  private static final String OUTER_MOMENTUM = "outer_momentum.";
  private static final String FIRST_MOMENT = "exp_avg.";
  private static final String SECOND_MOMENT = "exp_avg_sq.";

  /** Copies the trainer's state to the host. */
  public static TrainState capture(Trainer trainer) {
    FlatParameters flat = trainer.parameters();
    ScoreNetwork net = trainer.network();
    try (NDManager scope = trainer.ema().shadow().getManager().newSubManager()) {
      Map<String, HostTensor> emaByName = byName(flat, trainer.ema().shadow(), "", scope);
      List<HostTensor> model = new ArrayList<>();
      List<HostTensor> ema = new ArrayList<>();
      for (Map.Entry<String, Parameter> e : net.stateDict().entrySet()) {
        HostTensor current = HostTensor.copyOf(e.getKey(), e.getValue().getArray());
        model.add(current);
        ema.add(emaByName.getOrDefault(e.getKey(), current));
      }
      for (Map.Entry<String, Shape> e : net.bufferShapes().entrySet()) {
        HostTensor buffer =
            new HostTensor(e.getKey(), e.getValue().getShape(), net.buffer(e.getKey()));
        model.add(buffer);
        ema.add(buffer);
      }
      List<HostTensor> optimizer = new ArrayList<>();
      optimizer.addAll(byName(flat, trainer.adam().firstMoment(), FIRST_MOMENT, scope).values());
      optimizer.addAll(byName(flat, trainer.adam().secondMoment(), SECOND_MOMENT, scope).values());
      List<HostTensor> outer =
          trainer.outerMomentum() == null
              ? List.of()
              : List.copyOf(byName(flat, trainer.outerMomentum(), OUTER_MOMENTUM, scope).values());
      return new TrainState(
          trainer.step(),
          trainer.stream().cursor(),
          trainer.adam().updates(),
          trainer.ema().updates(),
          List.copyOf(model),
          List.copyOf(ema),
          List.copyOf(optimizer),
          outer);
    }
  }

  /** Puts this state into a trainer built with the same network and config. */
  public void restoreInto(Trainer trainer) {
    FlatParameters flat = trainer.parameters();
    Map<String, HostTensor> modelByName = index(model);
    Map<String, HostTensor> emaByName = index(ema);
    Map<String, HostTensor> optimizerByName = index(optimizer);
    try (NDManager scope = trainer.ema().shadow().getManager().newSubManager()) {
      // Frozen parameters (NCSN++'s Fourier weights) are not in the flat vector: copy them too.
      for (Map.Entry<String, Parameter> e : trainer.network().stateDict().entrySet()) {
        if (!e.getValue().requiresGradient()) {
          NDArray target = e.getValue().getArray();
          HostTensor source = require(modelByName, e.getKey(), MODEL);
          InPlace.assign(target, scope.create(source.data(), target.getShape()));
        }
      }
      flat.assign(vector(flat, modelByName, "", MODEL, scope));
      trainer.ema().restore(vector(flat, emaByName, "", EMA, scope), emaUpdates);
      trainer
          .adam()
          .restore(
              vector(flat, optimizerByName, FIRST_MOMENT, OPTIMIZER, scope),
              vector(flat, optimizerByName, SECOND_MOMENT, OPTIMIZER, scope),
              adamUpdates);
      trainer.restoredSynchronisedState(
          outer.isEmpty() ? null : vector(flat, index(outer), OUTER_MOMENTUM, OUTER, scope));
    }
    trainer.stream().seek(cursor);
    trainer.resumeAt(nextStep);
  }

  /** The snapshot a checkpoint store writes; the step of a checkpoint is the next step to run. */
  public CheckpointSnapshot toSnapshot(String jobId, long generation, String config, long seed) {
    CheckpointSnapshot.Builder b =
        CheckpointSnapshot.builder()
            .jobId(jobId)
            .step(nextStep)
            .generation(generation)
            .config(config)
            .dataCursor(cursor)
            .rng(
                new RngState(
                    seed,
                    Map.of(
                        "adam_updates", Long.toString(adamUpdates),
                        "ema_updates", Long.toString(emaUpdates))))
            .group(MODEL, model)
            .group(EMA, ema)
            .group(OPTIMIZER, optimizer);
    if (!outer.isEmpty()) {
      b.group(OUTER, outer);
    }
    return b.build();
  }

  /** The state a checkpoint holds. */
  public static TrainState fromCheckpoint(LoadedCheckpoint checkpoint) {
    var manifest = checkpoint.manifest();
    Map<String, String> rng = manifest.rng().state();
    return new TrainState(
        manifest.step(),
        manifest.dataCursor(),
        counter(rng, "adam_updates", checkpoint),
        counter(rng, "ema_updates", checkpoint),
        host(checkpoint.group(MODEL)),
        host(checkpoint.group(EMA)),
        host(checkpoint.group(OPTIMIZER)),
        checkpoint.groups().containsKey(OUTER) ? host(checkpoint.group(OUTER)) : List.of());
  }

  private static long counter(Map<String, String> rng, String key, LoadedCheckpoint checkpoint) {
    String v = rng.get(key);
    if (v == null) {
      throw new InvalidInputException(
          "checkpoint " + checkpoint.directory() + " has no rng." + key + " in its manifest");
    }
    return Long.parseLong(v);
  }

  private static List<HostTensor> host(NDList tensors) {
    List<HostTensor> out = new ArrayList<>();
    for (NDArray a : tensors) {
      out.add(HostTensor.copyOf(a.getName(), a));
    }
    return out;
  }

  private static Map<String, HostTensor> byName(
      FlatParameters flat, NDArray vector, String prefix, NDManager scope) {
    Map<String, HostTensor> out = new LinkedHashMap<>();
    List<NDArray> pieces = flat.unflatten(vector, scope);
    for (int i = 0; i < pieces.size(); i++) {
      String name = prefix + flat.names().get(i);
      out.put(flat.names().get(i), HostTensor.copyOf(name, pieces.get(i)));
    }
    return out;
  }

  private static Map<String, HostTensor> index(List<HostTensor> tensors) {
    Map<String, HostTensor> out = new LinkedHashMap<>();
    for (HostTensor t : tensors) {
      out.put(t.name(), t);
    }
    return out;
  }

  private static HostTensor require(Map<String, HostTensor> byName, String name, String group) {
    HostTensor t = byName.get(name);
    if (t == null) {
      throw new InvalidInputException("state group " + group + " has no tensor " + name);
    }
    return t;
  }

  private static NDArray vector(
      FlatParameters flat,
      Map<String, HostTensor> byName,
      String prefix,
      String group,
      NDManager scope) {
    float[] all = new float[Math.toIntExact(flat.size())];
    int offset = 0;
    for (int i = 0; i < flat.names().size(); i++) {
      String name = flat.names().get(i);
      HostTensor t = require(byName, prefix + name, group);
      long expected = flat.parameters().get(i).getArray().size();
      if (t.data().length != expected) {
        throw new InvalidInputException(
            "state group "
                + group
                + ": tensor "
                + prefix
                + name
                + " has "
                + t.data().length
                + " elements, the network "
                + expected);
      }
      System.arraycopy(t.data(), 0, all, offset, t.data().length);
      offset += t.data().length;
    }
    return scope.create(all);
  }
}
