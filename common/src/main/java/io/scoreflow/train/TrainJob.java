package io.scoreflow.train;

import static io.scoreflow.InvalidInputException.require;

import ai.djl.ndarray.NDManager;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import io.scoreflow.InvalidInputException;
import io.scoreflow.ckpt.AsyncCheckpointWriter;
import io.scoreflow.ckpt.CheckpointStore;
import io.scoreflow.ckpt.CompletedCheckpoint;
import io.scoreflow.ckpt.LoadedCheckpoint;
import io.scoreflow.ckpt.RetentionPolicy;
import io.scoreflow.data.BatchStream;
import io.scoreflow.data.Dataset;
import io.scoreflow.sde.ForwardSde;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A training run in a directory: {@code config.conf} (the resolved config), {@code checkpoints/}
 * (the checkpoint store), {@code events.jsonl} (the event log). Starting refuses a directory that
 * already holds checkpoints unless asked to resume; resuming loads the newest valid checkpoint,
 * checks that the config trains the same thing, and continues exactly where it stopped.
 */
public final class TrainJob implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(TrainJob.class);

  /** Config paths that must match between a checkpoint and the run that resumes it. */
  private static final List<String> MUST_MATCH =
      List.of(
          "scoreflow.sde",
          "scoreflow.model",
          "scoreflow.data",
          "scoreflow.train.seed",
          "scoreflow.train.batch-size",
          "scoreflow.train.eps",
          "scoreflow.train.ema-rate",
          "scoreflow.train.optim");

  /** What a job reports as it runs. */
  public interface Listener {
    default void onStart(long fromStep, long toStep, boolean resumed) {}

    default void onStep(StepResult result) {}

    default void onCheckpoint(CompletedCheckpoint checkpoint) {}
  }

  private final Config config;
  private final Path dir;
  private final String jobId;
  private final long seed;
  private final int logEvery;
  private final int checkpointEvery;
  private final NDManager manager;
  private final Trainer trainer;
  private final CheckpointStore store;
  private final AsyncCheckpointWriter writer;
  private final EventLog events;
  private final Deque<CompletableFuture<CompletedCheckpoint>> pending = new ArrayDeque<>();
  private final boolean resumed;

  private TrainJob(Config given, Path dir, boolean resume, ai.djl.Device device) {
    this.dir = dir;
    Config train = given.getConfig("scoreflow.train");
    this.jobId = given.getString("scoreflow.job.name");
    this.seed = train.getLong("seed");
    this.logEvery = train.getInt("log-every");
    this.checkpointEvery = train.getInt("checkpoint-every");
    require(logEvery >= 1, "scoreflow.train.log-every must be >= 1, got %s", logEvery);
    require(
        checkpointEvery >= 1,
        "scoreflow.train.checkpoint-every must be >= 1, got %s",
        checkpointEvery);
    int batch = train.getInt("batch-size");
    require(batch >= 1, "scoreflow.train.batch-size must be >= 1, got %s", batch);

    ForwardSde sde = TrainSetup.sde(given);
    Dataset dataset = TrainSetup.dataset(given);
    // Recorded so that sampling a checkpoint needs no data on disk.
    this.config = TrainSetup.withSampleShape(given, dataset.shape());
    this.manager = NDManager.newBaseManager(device);
    CheckpointStore openedStore = null;
    AsyncCheckpointWriter openedWriter = null;
    Trainer built = null;
    try {
      TrainSetup.Model model = TrainSetup.model(config, dataset.shape(), sde, manager);
      BatchStream stream =
          BatchStream.builder()
              .dataset(dataset)
              .globalBatchSize(batch)
              .seed(seed)
              .randomFlip(config.getBoolean("scoreflow.data.random-flip"))
              .build();
      built =
          Trainer.builder()
              .network(model.network())
              .objective(
                  new DsmObjective(sde, model.parametrisation(), train.getDouble("eps"), seed))
              .stream(stream)
              .scaler(model.scaler())
              .adam(AdamOptions.fromConfig(train.getConfig("optim")))
              .emaRate(train.getDouble("ema-rate"))
              .seed(seed)
              .manager(manager)
              .build();
      this.trainer = built;
      openedStore =
          CheckpointStore.builder(dir.resolve("checkpoints"))
              .retention(RetentionPolicy.keepLast(train.getInt("keep-checkpoints")))
              .open();
      this.store = openedStore;
      openedWriter = AsyncCheckpointWriter.create(openedStore, 1);
      this.writer = openedWriter;
      this.resumed = restoreOrRefuse(resume);
      writeConfig();
      this.events = new EventLog(dir.resolve("events.jsonl"));
    } catch (RuntimeException e) {
      // A refused start (an existing run without --resume, an incompatible config) must leave
      // nothing held: the store's lock, the writer thread, native memory.
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
  }

  /**
   * Opens the run in {@code dir} for {@code config} on {@code device}; with {@code resume},
   * continues it.
   */
  public static TrainJob open(Config config, Path dir, boolean resume, ai.djl.Device device) {
    return new TrainJob(config, dir, resume, device);
  }

  public Trainer trainer() {
    return trainer;
  }

  public Path directory() {
    return dir;
  }

  /** Trains until {@code untilStep} steps are done, checkpointing on the way and at the end. */
  public void run(long untilStep, Listener listener) {
    long from = trainer.step();
    require(
        untilStep >= from,
        "--steps %s is before the step this run already reached (%s)",
        untilStep,
        from);
    listener.onStart(from, untilStep, resumed);
    events.write(
        resumed ? "resume" : "start", Map.of("step", from, "until", untilStep, "job", jobId));
    while (trainer.step() < untilStep) {
      StepResult r = trainer.runStep();
      listener.onStep(r);
      long done = trainer.step();
      if (done % logEvery == 0 || done == untilStep) {
        events.write("step", stepFields(r));
      }
      if (done % checkpointEvery == 0 || done == untilStep) {
        checkpoint();
      }
      reapCheckpoints(listener, false);
    }
    reapCheckpoints(listener, true);
    events.write("finish", Map.of("step", trainer.step()));
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
      pending.add(writer.submit(state.toSnapshot(jobId, 0, renderedConfig(), seed)));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while queueing a checkpoint", e);
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
        throw new IllegalStateException("interrupted while waiting for a checkpoint", e);
      }
    }
  }

  private boolean restoreOrRefuse(boolean resume) {
    Optional<LoadedCheckpoint> newest;
    try (NDManager scratch = manager.newSubManager()) {
      newest = store.newestValid(scratch);
      if (newest.isEmpty()) {
        if (resume) {
          LOG.info("job {}: no checkpoint in {}, starting at step 0", jobId, store.root());
        }
        return false;
      }
      LoadedCheckpoint checkpoint = newest.get();
      if (!resume) {
        throw new InvalidInputException(
            dir
                + " already holds a run (newest checkpoint: step "
                + checkpoint.step()
                + "); pass --resume to continue it, or choose another --out");
      }
      checkCompatible(checkpoint);
      TrainState.fromCheckpoint(checkpoint).restoreInto(trainer);
      LOG.info(
          "job {}: resumed from {} at step {}", jobId, checkpoint.directory(), checkpoint.step());
      return true;
    }
  }

  private void checkCompatible(LoadedCheckpoint checkpoint) {
    Config stored;
    try {
      stored = ConfigFactory.parseString(checkpoint.manifest().config());
    } catch (com.typesafe.config.ConfigException e) {
      throw new InvalidInputException(
          "checkpoint "
              + checkpoint.directory()
              + " holds an unreadable config: "
              + e.getMessage());
    }
    for (String path : MUST_MATCH) {
      String was = stored.hasPath(path) ? render(stored.getValue(path)) : "(absent)";
      String now = config.hasPath(path) ? render(config.getValue(path)) : "(absent)";
      if (!was.equals(now)) {
        throw new InvalidInputException(
            "cannot resume: "
                + path
                + " was "
                + was
                + " in the checkpoint at step "
                + checkpoint.step()
                + " but is "
                + now
                + " now");
      }
    }
  }

  private static String render(com.typesafe.config.ConfigValue v) {
    return v.render(ConfigRenderOptions.concise());
  }

  private String renderedConfig() {
    return config
        .root()
        .withOnlyKey("scoreflow")
        .render(ConfigRenderOptions.concise().setFormatted(true));
  }

  private void writeConfig() {
    try {
      Files.createDirectories(dir);
      Path tmp = dir.resolve(".config.conf.tmp");
      Files.writeString(tmp, renderedConfig(), StandardCharsets.UTF_8);
      Files.move(
          tmp,
          dir.resolve("config.conf"),
          java.nio.file.StandardCopyOption.REPLACE_EXISTING,
          java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + dir.resolve("config.conf"), e);
    }
  }

  @Override
  public void close() {
    try {
      writer.close();
    } finally {
      try {
        store.close();
      } finally {
        events.close();
        trainer.close();
        manager.close();
      }
    }
  }
}
