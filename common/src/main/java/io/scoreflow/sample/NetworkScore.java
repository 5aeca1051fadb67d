package io.scoreflow.sample;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import io.scoreflow.model.ScoreNetwork;
import io.scoreflow.run.Parametrisation;
import io.scoreflow.sde.ForwardSde;

/** A trained network as a {@link ScoreFunction}: {@code score = scale(t) · net(x, cond(t))}. */
public record NetworkScore(
    ScoreNetwork net, Parametrisation parametrisation, ForwardSde sde, ParameterStore store)
    implements ScoreFunction {

  @Override
  public NDArray score(NDArray x, double t) {
    NDArray cond =
        x.getManager().full(new Shape(x.getShape().get(0)), (float) parametrisation.cond(sde, t));
    NDArray out = net.forward(store, new NDList(x, cond), false).singletonOrThrow();
    return out.muli(parametrisation.scoreScale(sde, t));
  }
}
