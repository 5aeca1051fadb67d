package io.scoreflow.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import io.scoreflow.data.Batch;
import io.scoreflow.data.BatchStream;
import io.scoreflow.math.InPlace;
import io.scoreflow.math.KeyedRandom;
import io.scoreflow.model.ScoreNetwork;
import io.scoreflow.run.DataScaler;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One replica's training loop: draw its shard of the global batch, compute the DSM loss and its
 * gradient, average the gradient over replicas, clip, apply Adam, update the EMA.
 *
 * <p>Native memory: parameters, Adam's moments and the EMA live on the base manager; everything
 * else a step creates lives on a sub-manager closed at the end of the step, so memory stays flat.
 *
 * <p>Determinism: the batch comes from the stream's (seed, epoch) permutation, t and z from keys of
 * (seed, step, global sample index), and the engine's generator (dropout) is reseeded from (seed,
 * step, rank) at every step. A run is therefore a function of its seed and config, and a resumed
 * run needs only the step and the data cursor to continue bit for bit.
 */
public final class Trainer implements AutoCloseable {

  private final ScoreNetwork net;
  private final DsmObjective objective;
  private final BatchStream stream;
  private final DataScaler scaler;
  private final GradientReducer reducer;
  private final long seed;
  private final int rank;
  private final NDManager base;
  private final ParameterStore store;
  private final FlatParameters flat;
  private final Adam adam;
  private final Ema ema;
  private final float[] buffer;
  private final boolean checksums;
  private final Synchronisation sync;

  /** Local SGD: the parameters of the last synchronisation (null when every step is one). */
  private final NDArray anchor;

  /** Local SGD with Nesterov: the outer momentum buffer (null otherwise). */
  private final NDArray outerMomentum;

  /** Delayed mode: the exchange of the previous step's gradient, its scope, and its thread. */
  private java.util.concurrent.Future<NDArray> pending;

  private NDManager pendingScope;
  private java.util.concurrent.ExecutorService exchanges;

  private long step;

  private Trainer(Builder b) {
    this.net = Objects.requireNonNull(b.net, "net");
    this.objective = Objects.requireNonNull(b.objective, "objective");
    this.stream = Objects.requireNonNull(b.stream, "stream");
    this.scaler = b.scaler;
    this.reducer = b.reducer;
    this.seed = b.seed;
    this.rank = b.rank;
    this.base = Objects.requireNonNull(b.manager, "manager");
    this.store = new ParameterStore(base, false);
    Map<String, Parameter> trainable = new LinkedHashMap<>();
    net.stateDict()
        .forEach(
            (name, p) -> {
              if (p.requiresGradient()) {
                trainable.put(name, p);
              }
            });
    this.flat = new FlatParameters(trainable);
    this.adam = new Adam(b.adam, flat.size(), DataType.FLOAT32, base);
    try (NDManager scope = base.newSubManager()) {
      this.ema = new Ema(b.emaRate, flat.values(scope), base);
      flat.zeroGradients(scope);
    }
    this.buffer = new float[stream.batchFloats()];
    this.checksums = b.checksums;
    this.sync = b.sync;
    if (sync instanceof Synchronisation.Local local) {
      try (NDManager scope = base.newSubManager()) {
        this.anchor = flat.values(scope).duplicate();
        this.anchor.attach(base);
      }
      this.outerMomentum =
          local.outer().kind() == Synchronisation.Outer.Kind.NESTEROV
              ? base.zeros(anchor.getShape(), anchor.getDataType())
              : null;
    } else {
      this.anchor = null;
      this.outerMomentum = null;
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The next step to run (0-based): the number of steps done. */
  public long step() {
    return step;
  }

  public FlatParameters parameters() {
    return flat;
  }

  public Adam adam() {
    return adam;
  }

  public Ema ema() {
    return ema;
  }

  public BatchStream stream() {
    return stream;
  }

  public ScoreNetwork network() {
    return net;
  }

  public DataScaler scaler() {
    return scaler;
  }

  public DsmObjective objective() {
    return objective;
  }

  /** Sets the step counter (restoring a checkpoint; the caller restores the rest). */
  public void resumeAt(long nextStep) {
    this.step = nextStep;
  }

  public Synchronisation synchronisation() {
    return sync;
  }

  /** Local SGD with Nesterov: the outer momentum (for checkpoints); null otherwise. */
  public NDArray outerMomentum() {
    return outerMomentum;
  }

  /**
   * After the parameters (and the outer momentum, {@code null}: zero) were restored: they are the
   * synchronised point local SGD continues from. Nothing to do when every step synchronises.
   */
  public void restoredSynchronisedState(NDArray momentum) {
    if (anchor == null) {
      return;
    }
    try (NDManager scope = base.newSubManager()) {
      InPlace.assign(anchor, flat.values(scope));
    }
    if (outerMomentum != null) {
      if (momentum != null) {
        InPlace.assign(outerMomentum, momentum);
      } else {
        InPlace.zero(outerMomentum);
      }
    }
  }

  /** Runs one step and returns what it did; see {@link #runStep(boolean)}. */
  public StepResult runStep() {
    return runStep(false);
  }

  /**
   * Runs one step and returns what it did.
   *
   * @param checkpointFollows whether a checkpoint is taken after this step: under local SGD the
   *     replicas then synchronise their parameters whatever the schedule, and average Adam's
   *     moments and the EMA too, so that the checkpoint is every replica's state; in the delayed
   *     mode the step drains the pipeline (applies its own gradient too), so nothing is in flight
   */
  public StepResult runStep(boolean checkpointFollows) {
    long current = step;
    int localBatch = stream.localBatchSize();
    long firstGlobalIndex = current * stream.globalBatchSize() + (long) rank * localBatch;
    Engine.getInstance().setRandomSeed((int) KeyedRandom.hash(seed, current, rank));
    try (NDManager scope = base.newSubManager()) {
      long t0 = System.nanoTime();
      Batch batch = stream.next(buffer);
      NDArray x0 = scaler.forward(batch.toNDArray(scope));
      DsmObjective.Draws draws =
          objective.draw(current, firstGlobalIndex, batch.count(), batch.sampleShape().size());
      NDArray loss;
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        loss = objective.loss(net, store, x0, draws, scope, true);
        collector.backward(loss);
      }
      NDArray grad = flat.takeGradients(scope);
      long t1 = System.nanoTime();
      java.util.List<String> badBefore = flat.nonFinite(grad);
      if (!badBefore.isEmpty()) {
        throw new TrainingDivergedException(
            current,
            String.format(
                "loss is %s, but the gradient of %s is not finite",
                loss.getFloat(), badBefore.subList(0, Math.min(5, badBefore.size()))));
      }
      double lossValue = loss.getFloat();
      if (!Double.isFinite(lossValue)) {
        throw new TrainingDivergedException(current, "loss is " + lossValue);
      }
      long t2;
      long t3;
      long exchangeNanos;
      double normValue;
      NDArray values;
      boolean synchronised = true;
      if (sync instanceof Synchronisation.Delayed) {
        // The exchange of the previous step's gradient ran while this one was computed.
        long waited = System.nanoTime();
        NDArray previous = awaitPending();
        exchangeNanos = System.nanoTime() - waited;
        t2 = System.nanoTime();
        normValue = previous == null ? Double.NaN : apply(previous, current - 1, scope);
        closePendingScope();
        if (checkpointFollows) {
          // Drain: nothing may be in flight at a checkpoint, so this step's gradient goes now.
          long drain = System.nanoTime();
          NDArray mean = reducer.allReduceMean(grad, current, scope);
          exchangeNanos += System.nanoTime() - drain;
          normValue = apply(mean, current, scope);
        } else {
          startExchange(grad, current);
        }
        if (Double.isNaN(normValue)) {
          // The first step after a start applies nothing; report its own gradient's size.
          normValue = grad.norm().getFloat();
        }
        values = flat.values(scope);
        ema.update(values, scope);
        t3 = System.nanoTime();
      } else {
        if (sync instanceof Synchronisation.EveryStep) {
          grad = reducer.allReduceMean(grad, current, scope);
        }
        t2 = System.nanoTime();
        normValue = apply(grad, current, scope);
        values = flat.values(scope);
        ema.update(values, scope);
        t3 = System.nanoTime();
        exchangeNanos = t2 - t1;
        if (sync instanceof Synchronisation.Local local) {
          synchronised = local.synchronisesAfter(current) || checkpointFollows;
          if (synchronised) {
            synchroniseParameters(local, checkpointFollows, current, scope);
            values = flat.values(scope);
          }
          exchangeNanos = System.nanoTime() - t3;
        }
      }
      long optimizerNanos = t3 - t2;
      ParameterChecksum checksum =
          checksums && synchronised ? ParameterChecksum.of(values.toFloatArray()) : null;
      step = current + 1;
      return new StepResult(
          current,
          lossValue,
          normValue,
          adam.options().learningRateAt(current),
          batch.count(),
          t1 - t0,
          exchangeNanos,
          optimizerNanos,
          checksum);
    }
  }

  /**
   * Clips {@code grad} (the averaged gradient of step {@code gradientStep}), checks it, and takes
   * Adam's step with it; returns its norm before clipping.
   */
  private double apply(NDArray grad, long gradientStep, NDManager scope) {
    NDArray norm = GradientClipping.clipGlobalNorm(grad, adam.options().gradClip(), scope);
    double normValue = norm.getFloat();
    if (!Double.isFinite(normValue)) {
      throw new TrainingDivergedException(gradientStep, "gradient norm " + normValue);
    }
    flat.subtract(adam.update(grad, gradientStep, scope));
    return normValue;
  }

  /**
   * Delayed mode: exchanges a copy of {@code grad} on the exchange thread, into a scope of its own
   * that lives until the next step has applied the result.
   */
  private void startExchange(NDArray grad, long current) {
    pendingScope = base.newSubManager();
    NDArray copy = grad.duplicate();
    copy.attach(pendingScope);
    NDManager into = pendingScope;
    pending = exchangeThread().submit(() -> reducer.allReduceMean(copy, current, into));
  }

  /** The averaged gradient in flight, once its exchange ended (null when none is). */
  private NDArray awaitPending() {
    if (pending == null) {
      return null;
    }
    try {
      return pending.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TrainingStoppedException("interrupted while waiting for the gradient exchange");
    } catch (java.util.concurrent.ExecutionException e) {
      // The exchange's own failure (an ExchangeException, say), as if it had run on this thread.
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException("the gradient exchange failed", e.getCause());
    } finally {
      pending = null;
    }
  }

  private void closePendingScope() {
    if (pendingScope != null) {
      pendingScope.close();
      pendingScope = null;
    }
  }

  private java.util.concurrent.ExecutorService exchangeThread() {
    if (exchanges == null) {
      exchanges =
          java.util.concurrent.Executors.newSingleThreadExecutor(
              r -> {
                Thread t = new Thread(r, "gradient-exchange-rank-" + rank);
                t.setDaemon(true);
                return t;
              });
    }
    return exchanges;
  }

  /**
   * Local SGD's synchronisation: averages the parameter change since the anchor (with Adam's
   * moments and the EMA when {@code withState}, in the same exchange), applies the outer optimizer
   * from the anchor, and makes the result the new anchor. Every replica computes the same update
   * from the same averaged values, so all hold bit-identical parameters afterwards.
   */
  private void synchroniseParameters(
      Synchronisation.Local local, boolean withState, long current, NDManager scope) {
    NDArray delta = anchor.sub(flat.values(scope));
    delta.attach(scope);
    NDArray payload =
        withState
            ? NDArrays.concat(
                new NDList(delta, adam.firstMoment(), adam.secondMoment(), ema.shadow()))
            : delta;
    payload.attach(scope);
    NDArray mean = reducer.allReduceMean(payload, current, scope);
    NDArray meanDelta = mean;
    if (withState) {
      long n = flat.size();
      NDList parts = mean.split(new long[] {n, 2 * n, 3 * n});
      for (NDArray part : parts) {
        part.attach(scope);
      }
      meanDelta = parts.get(0);
      InPlace.assign(adam.firstMoment(), parts.get(1));
      InPlace.assign(adam.secondMoment(), parts.get(2));
      InPlace.assign(ema.shadow(), parts.get(3));
    }
    NDArray update;
    if (local.outer().kind() == Synchronisation.Outer.Kind.NESTEROV) {
      double mu = local.outer().momentum();
      outerMomentum.muli(mu).addi(meanDelta);
      update = outerMomentum.mul(mu);
      update.attach(scope);
      update.addi(meanDelta).muli(local.outer().lr());
    } else {
      update = meanDelta;
    }
    NDArray next = anchor.sub(update);
    next.attach(scope);
    flat.assign(next);
    InPlace.assign(anchor, next);
  }

  @Override
  public void close() {
    if (exchanges != null) {
      // A step in flight is abandoned (its reducer is closed by whoever stops the replica); its
      // scope is freed only once the exchange thread is gone, never under its feet.
      exchanges.shutdownNow();
      try {
        if (exchanges.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS)) {
          closePendingScope();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    adam.close();
    ema.close();
    if (anchor != null) {
      anchor.close();
    }
    if (outerMomentum != null) {
      outerMomentum.close();
    }
  }

  /** Options of a trainer. */
  public static final class Builder {
    private ScoreNetwork net;
    private DsmObjective objective;
    private BatchStream stream;
    private DataScaler scaler = DataScaler.IDENTITY;
    private GradientReducer reducer = GradientReducer.LOCAL;
    private AdamOptions adam = AdamOptions.scoreSde();
    private double emaRate = 0.9999;
    private long seed;
    private int rank;
    private NDManager manager;
    private boolean checksums;
    private Synchronisation sync = Synchronisation.EVERY_STEP;

    /** How replicas combine their work (every step by default). */
    public Builder synchronisation(Synchronisation sync) {
      this.sync = Objects.requireNonNull(sync, "sync");
      return this;
    }

    /** The network, already initialised on {@link #manager}. */
    public Builder network(ScoreNetwork net) {
      this.net = net;
      return this;
    }

    public Builder objective(DsmObjective objective) {
      this.objective = objective;
      return this;
    }

    /** This replica's stream (its shard of every global batch). */
    public Builder stream(BatchStream stream) {
      this.stream = stream;
      return this;
    }

    public Builder scaler(DataScaler scaler) {
      this.scaler = scaler;
      return this;
    }

    public Builder reducer(GradientReducer reducer, int rank) {
      this.reducer = reducer;
      this.rank = rank;
      return this;
    }

    public Builder adam(AdamOptions adam) {
      this.adam = adam;
      return this;
    }

    public Builder emaRate(double emaRate) {
      this.emaRate = emaRate;
      return this;
    }

    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** The long-lived manager that holds parameters, moments and the EMA. */
    public Builder manager(NDManager manager) {
      this.manager = manager;
      return this;
    }

    /**
     * Whether every step fingerprints the parameters it leaves ({@link StepResult#checksum()}): one
     * host copy of the flat parameters per step, so data-parallel replicas can prove they agree.
     */
    public Builder checksums(boolean checksums) {
      this.checksums = checksums;
      return this;
    }

    public Trainer build() {
      return new Trainer(this);
    }
  }
}
