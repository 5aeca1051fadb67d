package io.scoreflow.train;

import static io.scoreflow.InvalidInputException.require;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import io.scoreflow.ckpt.AsyncCheckpointWriter;
import io.scoreflow.ckpt.CheckpointSearch;
import io.scoreflow.ckpt.CheckpointStore;
import io.scoreflow.ckpt.CompletedCheckpoint;
import io.scoreflow.ckpt.LoadedCheckpoint;
import io.scoreflow.ckpt.RetentionPolicy;
import io.scoreflow.data.BatchStream;
import io.scoreflow.data.Dataset;
import io.scoreflow.run.ElasticBatch;
import io.scoreflow.run.RunDirectory;
import io.scoreflow.run.TrainSettings;
import io.scoreflow.run.TrainSetup;
import io.scoreflow.sde.ForwardSde;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A training run in a directory (see {@link RunDirectory}): the single-process run, or one replica
 * of a data-parallel run. Starting follows the rules of {@link RunDirectory#checkStart}: a
 * directory that already holds checkpoints is refused unless asked to resume, one whose checkpoints
 * all fail verification unless asked to restart from scratch (then they are set aside); resuming
 * loads the newest checkpoint that verifies completely, checks that the config trains the same
 * thing, and continues exactly where it stopped. Every refusal comes before anything in the
 * directory is written.
 *
 * <p>A replica ({@link Builder#replica}) trains its shard of every global batch and averages
 * gradients through its reducer; it starts at the step its coordinator fixed ({@link
 * Builder#startAt}), logs to {@code events-rank-K.jsonl}, fingerprints its parameters after every
 * step, and only rank 0 writes {@code config.conf} and checkpoints — once per step for the whole
 * run, since all replicas hold the same state.
 */
public final class TrainJob implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(TrainJob.class);

  /** What a job reports as it runs (on the training thread). */
  public interface Listener {
    default void onStart(long fromStep, long toStep, boolean resumed) {}

    default void onStep(StepResult result) {}

    default void onCheckpoint(CompletedCheckpoint checkpoint) {}
  }

  private final Config config;
  private final RunDirectory dir;
  private final String jobId;
  private final long generation;
  private final int rank;
  private final long seed;
  private final int logEvery;
  private final int checkpointEvery;
  private final GradientReducer reducer;
  private final NDManager manager;
  private final Trainer trainer;
  private final CheckpointStore store;
  private final AsyncCheckpointWriter writer;
  private final EventLog events;
  private final Deque<CompletableFuture<CompletedCheckpoint>> pending = new ArrayDeque<>();
  private final boolean resumed;
  private final ElasticBatch elastic;
  private final List<String> startWarnings;

  private TrainJob(Builder b) {
    Config asked = Objects.requireNonNull(b.config, "config");
    this.dir = new RunDirectory(Objects.requireNonNull(b.dir, "directory"));
    this.generation = b.generation;
    this.rank = b.rank;
    this.elastic = Objects.requireNonNull(b.elastic, "elasticBatch");
    TrainSettings configured = TrainSettings.of(asked);
    TrainSettings train = configured;
    Config given = asked;
    if (b.ringBatch > 0 && b.ringBatch != configured.batchSize()) {
      if (!elastic.batchFollowsRing()) {
        throw new IllegalArgumentException(
            "a ring batch of "
                + b.ringBatch
                + " differs from "
                + TrainSettings.BATCH_SIZE
                + " = "
                + configured.batchSize()
                + " under elastic-batch = keep");
      }
      // The ring's batch is what this run trains: config.conf and the checkpoints record it.
      train = configured.withBatchSize(b.ringBatch);
      given =
          asked.withValue(
              TrainSettings.BATCH_SIZE, ConfigValueFactory.fromAnyRef(train.batchSize()));
    }
    this.jobId = given.getString("scoreflow.job.name");
    this.seed = train.seed();
    this.logEvery = train.logEvery();
    this.checkpointEvery = train.checkpointEvery();
    this.reducer = b.reducer;
    int batch = train.batchSize();

    ForwardSde sde = TrainSetup.sde(given);
    Dataset dataset = TrainSetup.dataset(given);
    // Recorded so that sampling a checkpoint needs no data on disk.
    this.config = TrainSetup.withSampleShape(given, dataset.shape());
    this.manager = NDManager.newBaseManager(b.device);
    CheckpointStore openedStore = null;
    AsyncCheckpointWriter openedWriter = null;
    Trainer built = null;
    // Holds a resumed checkpoint's tensors until they are copied into the trainer.
    NDManager scratch = manager.newSubManager();
    try {
      TrainSetup.Model model = TrainSetup.model(config, dataset.shape(), sde, manager);
      BatchStream stream =
          BatchStream.builder()
              .dataset(dataset)
              .globalBatchSize(batch)
              .seed(seed)
              .shard(b.rank, b.worldSize)
              .randomFlip(config.getBoolean("scoreflow.data.random-flip"))
              .build();
      built =
          Trainer.builder()
              .network(model.network())
              .objective(new DsmObjective(sde, model.parametrisation(), train.eps(), seed))
              .stream(stream)
              .scaler(model.scaler())
              .adam(AdamOptions.fromConfig(given.getConfig(TrainSettings.PATH + ".optim")))
              .emaRate(train.emaRate())
              .seed(seed)
              .reducer(b.reducer, b.rank)
              .synchronisation(Synchronisation.of(given))
              .checksums(b.replica || b.checksums)
              .manager(manager)
              .build();
      this.trainer = built;
      // Read-only, and before the store is opened: a refused start changes nothing in the
      // directory. A replica starts where its coordinator decided, which applied these rules.
      CheckpointSearch<LoadedCheckpoint> search =
          b.startAt >= 0
              ? null
              : dir.checkStart(dir.reader().search(scratch), b.resume, b.restartFromScratch);
      if (writesCheckpoints()) {
        openedStore =
            CheckpointStore.builder(dir.checkpoints())
                .retention(RetentionPolicy.keepLast(train.keepCheckpoints()))
                // A replica's rank 0 owns the root for its ring's generation only.
                .fencedBy(b.replica ? b.generation : 0)
                .open();
        openedWriter = AsyncCheckpointWriter.create(openedStore, 1);
      }
      this.store = openedStore;
      this.writer = openedWriter;
      List<String> warnings = new ArrayList<>();
      this.resumed = b.startAt >= 0 ? restoreAt(b.startAt) : restoreFrom(search, warnings);
      this.startWarnings = List.copyOf(warnings);
      if (writesCheckpoints()) {
        dir.writeConfig(config);
      }
      this.events =
          new EventLog(
              b.replica ? dir.replicaEvents(b.rank) : dir.path().resolve(RunDirectory.EVENTS));
    } catch (RuntimeException e) {
      // A refused start (an existing run without --resume, an incompatible config) must leave
      // nothing held: the store's lock, the writer thread, native memory.
      scratch.close();
      if (openedWriter != null) {
        openedWriter.close();
      }
      if (openedStore != null) {
        openedStore.close();
      }
      if (built != null) {
        built.close();
      }
      manager.close();
      throw e;
    }
    // The resumed checkpoint's tensors are in the trainer now.
    scratch.close();
  }

  public static Builder builder() {
    return new Builder();
  }

  public Trainer trainer() {
    return trainer;
  }

  public Path directory() {
    return dir.path();
  }

  /**
   * What the user should hear about how this run started: that it continues from an older
   * checkpoint than its newest (which failed verification), or that it set aside checkpoints that
   * all failed and starts again at step 0. Empty for an ordinary start or resume.
   */
  public List<String> startWarnings() {
    return startWarnings;
  }

  private boolean writesCheckpoints() {
    return rank == 0;
  }

  /**
   * Trains until {@code untilStep} steps are done, checkpointing on the way and at the end. Runs on
   * any thread: the optimizer's in-place updates need grad mode off ({@link
   * io.scoreflow.math.GradMode}), which only the engine's first thread has by default.
   */
  public void run(long untilStep, Listener listener) {
    io.scoreflow.math.GradMode.off(() -> runSteps(untilStep, listener));
  }

  private void runSteps(long untilStep, Listener listener) {
    long from = trainer.step();
    require(
        untilStep >= from,
        "--steps %s is before the step this run already reached (%s)",
        untilStep,
        from);
    listener.onStart(from, untilStep, resumed);
    Map<String, Object> begin = new LinkedHashMap<>();
    begin.put("step", from);
    begin.put("until", untilStep);
    begin.put("job", jobId);
    begin.put("generation", generation);
    if (!startWarnings.isEmpty()) {
      // The log keeps what a fallback or a restart from scratch left behind, for whoever reads it.
      begin.put("warnings", startWarnings);
    }
    events.write(resumed ? "resume" : "start", begin);
    while (trainer.step() < untilStep) {
      if (Thread.currentThread().isInterrupted()) {
        throw new TrainingStoppedException(
            String.format(
                "job %s generation %d: stopped before step %d", jobId, generation, trainer.step()));
      }
      StepResult r = trainer.runStep(checkpointAfter(trainer.step() + 1, untilStep));
      long done = trainer.step();
      if (r.checksum() != null) {
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("step", r.step());
        params.put("generation", generation);
        params.put("crc32c", r.checksum().hex());
        params.put("sum", r.checksum().sum());
        events.write("params", params);
      }
      if (done % logEvery == 0 || done == untilStep) {
        events.write("step", stepFields(r));
      }
      if (checkpointAfter(done, untilStep)) {
        reducer.checkpointed();
        if (writesCheckpoints()) {
          checkpoint();
        }
      }
      listener.onStep(r);
      reapCheckpoints(listener, false);
    }
    reapCheckpoints(listener, true);
    events.write("finish", Map.of("step", trainer.step()));
  }

  /** Whether a checkpoint is taken once {@code stepsDone} steps are done. */
  private boolean checkpointAfter(long stepsDone, long untilStep) {
    return stepsDone % checkpointEvery == 0 || stepsDone == untilStep;
  }

  private static Map<String, Object> stepFields(StepResult r) {
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("step", r.step());
    f.put("loss", r.loss());
    f.put("grad_norm", r.gradNorm());
    f.put("lr", r.learningRate());
    f.put("samples", r.samples());
    f.put("compute_ms", r.computeNanos() / 1e6);
    f.put("exchange_ms", r.exchangeNanos() / 1e6);
    f.put("optimizer_ms", r.optimizerNanos() / 1e6);
    return f;
  }

  /** Takes the in-memory copy now and hands it to the writer thread. */
  private void checkpoint() {
    TrainState state = TrainState.capture(trainer);
    try {
      pending.add(
          writer.submit(state.toSnapshot(jobId, generation, RunDirectory.render(config), seed)));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TrainingStoppedException("interrupted while queueing a checkpoint");
    }
  }

  /** Reports finished checkpoint writes; a failed write stops training loudly. */
  private void reapCheckpoints(Listener listener, boolean waitForAll) {
    while (!pending.isEmpty() && (waitForAll || pending.peek().isDone())) {
      CompletableFuture<CompletedCheckpoint> next = pending.poll();
      try {
        CompletedCheckpoint done = next.get();
        events.write(
            "checkpoint", Map.of("step", done.step(), "directory", done.directory().toString()));
        listener.onCheckpoint(done);
      } catch (ExecutionException e) {
        throw new IllegalStateException(
            "writing a checkpoint failed (earlier checkpoints are intact): "
                + e.getCause().getMessage(),
            e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new TrainingStoppedException("interrupted while waiting for a checkpoint");
      }
    }
  }

  /**
   * Single process, once {@link RunDirectory#checkStart} let it start: the checkpoint found, or
   * step 0 (after setting aside checkpoints that all failed verification).
   */
  private boolean restoreFrom(CheckpointSearch<LoadedCheckpoint> search, List<String> warnings) {
    if (search instanceof CheckpointSearch.Found<LoadedCheckpoint> found) {
      RunDirectory.fallbackWarning(found).ifPresent(warnings::add);
      restore(found.checkpoint());
      return true;
    }
    if (search instanceof CheckpointSearch.NoneVerifies<LoadedCheckpoint> failed) {
      warnings.add(dir.setAside(store, failed));
    } else {
      LOG.info("job {}: no checkpoint in {}, starting at step 0", jobId, dir.checkpoints());
    }
    return false;
  }

  /**
   * Replica: exactly the checkpoint of {@code step} (the coordinator's choice), or a fresh start.
   */
  private boolean restoreAt(long step) {
    if (step == 0) {
      return false;
    }
    try (NDManager scratch = manager.newSubManager()) {
      restore(dir.reader().load(step, scratch));
      return true;
    }
  }

  private void restore(LoadedCheckpoint checkpoint) {
    RunDirectory.checkCompatible(config, checkpoint, elastic.batchFollowsRing());
    // Writes into the parameters in place: refused with grad mode on, as on a replica's thread.
    io.scoreflow.math.GradMode.off(
        () -> TrainState.fromCheckpoint(checkpoint).restoreInto(trainer));
    LOG.info(
        "job {} generation {} step {}: rank {} resumed from {}",
        jobId,
        generation,
        checkpoint.step(),
        rank,
        checkpoint.directory());
  }

  @Override
  public void close() {
    try {
      if (writer != null) {
        writer.close();
      }
    } finally {
      try {
        if (store != null) {
          store.close();
        }
      } finally {
        events.close();
        trainer.close();
        manager.close();
      }
    }
  }

  /** Options of a run; {@link #config} and {@link #directory} must be set. */
  public static final class Builder {
    private Config config;
    private Path dir;
    private Device device = Device.cpu();
    private boolean resume;
    private boolean restartFromScratch;
    private long startAt = -1;
    private int rank = 0;
    private int worldSize = 1;
    private GradientReducer reducer = GradientReducer.LOCAL;
    private boolean replica;
    private long generation = 0;
    private boolean checksums;
    private ElasticBatch elastic = ElasticBatch.KEEP;
    private int ringBatch;

    private Builder() {}

    /** The resolved config (the {@code scoreflow} tree with every default). */
    public Builder config(Config config) {
      this.config = config;
      return this;
    }

    public Builder directory(Path dir) {
      this.dir = dir;
      return this;
    }

    public Builder device(Device device) {
      this.device = Objects.requireNonNull(device, "device");
      return this;
    }

    /** Single process: continue from the newest valid checkpoint instead of refusing. */
    public Builder resume(boolean resume) {
      this.resume = resume;
      return this;
    }

    /**
     * Single process: when the directory's checkpoints all fail verification, set them aside (see
     * {@link RunDirectory#setAside}) and start at step 0 instead of refusing. A checkpoint that
     * verifies is never set aside.
     */
    public Builder restartFromScratch(boolean restartFromScratch) {
      this.restartFromScratch = restartFromScratch;
      return this;
    }

    /**
     * Starts exactly at the checkpoint of {@code step} ({@code 0}: a fresh start), as a coordinator
     * decided for all replicas; no refusal, the coordinator already applied the rules.
     */
    public Builder startAt(long step) {
      require(step >= 0, "start step must be >= 0, got %s", step);
      this.startAt = step;
      return this;
    }

    /**
     * This process is replica {@code rank} of {@code worldSize}, averaging gradients through {@code
     * reducer}. Replicas always fingerprint their parameters after every step.
     */
    public Builder replica(int rank, int worldSize, GradientReducer reducer) {
      require(
          worldSize >= 1 && rank >= 0 && rank < worldSize,
          "rank %s is outside a world of %s",
          rank,
          worldSize);
      this.rank = rank;
      this.worldSize = worldSize;
      this.reducer = Objects.requireNonNull(reducer, "reducer");
      this.replica = true;
      return this;
    }

    /** The membership generation recorded in checkpoints and log lines. */
    public Builder generation(long generation) {
      this.generation = generation;
      return this;
    }

    /** Fingerprint the parameters after every step even in a single process. */
    public Builder checksums(boolean checksums) {
      this.checksums = checksums;
      return this;
    }

    /**
     * The run's {@code scoreflow.cluster.elastic-batch}: under {@link ElasticBatch#SCALE} a
     * checkpoint of another global batch is continued, since the batch follows the ring by design.
     * The default, {@link ElasticBatch#KEEP}, continues only a checkpoint of the same batch.
     */
    public Builder elasticBatch(ElasticBatch elastic) {
      this.elastic = Objects.requireNonNull(elastic, "elastic");
      return this;
    }

    /**
     * A replica: the global batch its ring trains, as the coordinator decided by {@link
     * ElasticBatch#globalBatch} (it differs from {@code scoreflow.train.batch-size} only under
     * {@link ElasticBatch#SCALE}, for a ring of another size than asked for). Recorded in {@code
     * config.conf} and the checkpoints, so a checkpoint says which batch trained it.
     */
    public Builder ringBatch(int globalBatch) {
      require(globalBatch >= 1, "a ring's global batch must be >= 1, got %s", globalBatch);
      this.ringBatch = globalBatch;
      return this;
    }

    public TrainJob open() {
      return new TrainJob(this);
    }
  }
}
