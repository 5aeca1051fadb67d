package io.scoreflow.cli.sweep;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.scoreflow.eval.CurvesChart;
import io.scoreflow.eval.RunCurves;
import io.scoreflow.eval.SampleQuality;
import io.scoreflow.metrics.EvaluationMetrics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * A sweep's results: one row per job (state, steps, wall time, final loss, the evaluator's metric
 * of its last checkpoint), as {@code results.md}, {@code results.csv} and {@code results.json} in
 * the sweep's directory, and {@code results.png}: every job's loss and metric against step on one
 * chart; and each job's {@code JOB/samples.png}. The metric of every checkpoint is measured the
 * same way for every job ({@link RunCurves#measure}: same sampler, steps, count and seed), each job
 * as soon as it is over (on one thread of its own, while the others train) and the rest at the end;
 * the files are written again after each.
 */
final class SweepResults {

  /** One job's row; {@code metric} NaN when it has no checkpoint to measure. */
  record Row(
      String job,
      String state,
      long steps,
      double wallSeconds,
      double finalLoss,
      String metricName,
      double metric,
      List<Long> evalSteps,
      List<Double> metricCurve,
      String samples) {}

  /**
   * Each job's picture of its newest checkpoint's samples, in its run directory: the image grid, or
   * for vector data the scatter of two coordinates over the data's law.
   */
  static final String SAMPLES_PNG = "samples.png";

  private final SweepSpec spec;
  private final Path out;
  private final int samples;
  private final int samplerSteps;
  private final Consumer<String> progress;
  private final EvaluationMetrics metrics;

  /** Each measured job's curves; touched by the measuring thread only. */
  private final Map<String, RunCurves> measured = new HashMap<>();

  /** One thread measures, so that the jobs still training are not held up by it. */
  private final ExecutorService measuring =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "scoreflow-sweep-results");
            t.setDaemon(true);
            return t;
          });

  /**
   * The results of {@code spec} in {@code out}, each job measured with {@code samples} samples of a
   * {@code samplerSteps}-step sampler; every measurement also goes to {@code metrics} (null: none)
   * under the job's name.
   */
  SweepResults(
      SweepSpec spec,
      Path out,
      int samples,
      int samplerSteps,
      Consumer<String> progress,
      EvaluationMetrics metrics) {
    this.spec = spec;
    this.out = out;
    this.samples = samples;
    this.samplerSteps = samplerSteps;
    this.progress = progress;
    this.metrics = metrics;
  }

  /**
   * {@code job} is over (finished, failed or cancelled): measures it in the background and writes
   * the files again, so the table fills as the sweep goes.
   */
  void jobOver(String job) {
    measuring.execute(
        () -> {
          try {
            measure(job);
            write();
          } catch (IOException | RuntimeException e) {
            // The end measures it again and reports what is wrong then.
            measured.remove(job);
            progress.accept(job + ": measuring failed for now: " + e.getMessage());
          }
        });
  }

  /**
   * Measures every job not measured yet (those that finished in an earlier invocation, or are over
   * without being heard of), writes the files, and returns the rows.
   */
  List<Row> finish() throws IOException, InterruptedException {
    Future<List<Row>> rows =
        measuring.submit(
            () -> {
              for (SweepSpec.Job j : spec.jobs()) {
                if (!measured.containsKey(j.name())) {
                  measure(j.name());
                }
              }
              return write();
            });
    try {
      return rows.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException(e.getCause());
    } finally {
      measuring.shutdown();
    }
  }

  private void measure(String job) throws IOException {
    Path dir = out.resolve(job);
    if (!Files.isDirectory(dir.resolve("checkpoints"))
        || SweepJournal.read(dir, spec.steps()).steps() == 0) {
      return;
    }
    RunCurves m =
        RunCurves.measure(dir, samples, samplerSteps, job, dir.resolve(SAMPLES_PNG), progress);
    measured.put(job, m);
    if (metrics != null && m.last() != null) {
      SampleQuality.Measurement last = m.last();
      metrics
          .forRun(job)
          .onMeasured(
              m.evalSteps().get(m.evalSteps().size() - 1),
              last.kind(),
              last.value(),
              last.inceptionScore(),
              last.kid());
    }
  }

  /** The rows of every job (measured or not yet), written as the four files. */
  private List<Row> write() throws IOException {
    List<Row> rows = new ArrayList<>();
    List<CurvesChart.Line> lines = new ArrayList<>();
    String metricName = "metric";
    for (SweepSpec.Job j : spec.jobs()) {
      Path dir = out.resolve(j.name());
      SweepJournal journal = SweepJournal.read(dir, spec.steps());
      String state = journal.state().name().toLowerCase(Locale.ROOT).replace('_', ' ');
      double metric = Double.NaN;
      List<Long> evalSteps = List.of();
      List<Double> curve = List.of();
      String samplesPicture = null;
      RunCurves m = measured.get(j.name());
      if (m != null) {
        metricName = m.metric();
        evalSteps = m.evalSteps();
        curve = m.values();
        metric = curve.isEmpty() ? Double.NaN : curve.get(curve.size() - 1);
        if (Files.isRegularFile(dir.resolve(SAMPLES_PNG))) {
          samplesPicture = j.name() + "/" + SAMPLES_PNG;
        }
        lines.add(new CurvesChart.Line(j.name(), evalSteps, curve, m.lossSteps(), m.loss()));
      }
      rows.add(
          new Row(
              j.name(),
              state,
              journal.steps(),
              journal.wallSeconds(),
              journal.finalLoss(),
              metricName,
              metric,
              evalSteps,
              curve,
              samplesPicture));
    }
    writeAtomically(out.resolve("results.md"), markdown(spec, rows));
    writeAtomically(out.resolve("results.csv"), csv(rows));
    writeAtomically(
        out.resolve("results.json"),
        new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .writeValueAsString(json(spec, rows)));
    if (!lines.isEmpty()) {
      CurvesChart.write(metricName, lines, "sweep " + spec.name(), out.resolve("results.png"));
    }
    return rows;
  }

  static Map<String, Object> json(SweepSpec spec, List<Row> rows) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("sweep", spec.name());
    m.put("steps", spec.steps());
    m.put("workers_per_job", spec.workersPerJob());
    List<Map<String, Object>> jobs = new ArrayList<>();
    for (Row r : rows) {
      Map<String, Object> j = new LinkedHashMap<>();
      j.put("job", r.job());
      j.put("state", r.state());
      j.put("steps", r.steps());
      j.put("wall_seconds", r.wallSeconds());
      j.put("final_loss", Double.isNaN(r.finalLoss()) ? null : r.finalLoss());
      j.put("metric", r.metricName());
      j.put("value", Double.isNaN(r.metric()) ? null : r.metric());
      j.put("eval_steps", r.evalSteps());
      j.put("values", r.metricCurve());
      j.put("samples", r.samples());
      jobs.add(j);
    }
    m.put("jobs", jobs);
    return m;
  }

  private static String markdown(SweepSpec spec, List<Row> rows) {
    String metric =
        rows.stream()
            .map(Row::metricName)
            .filter(n -> !n.equals("metric"))
            .findFirst()
            .orElse("metric");
    StringBuilder b = new StringBuilder();
    b.append(
        String.format(
            Locale.ROOT,
            "| job | state | steps | wall s | final loss | %s | samples |%n"
                + "|---|---|---:|---:|---:|---:|---|%n",
            metric));
    for (Row r : rows) {
      b.append(
          String.format(
              Locale.ROOT,
              "| %s | %s | %d | %.1f | %s | %s | %s |%n",
              r.job(),
              r.state(),
              r.steps(),
              r.wallSeconds(),
              number(r.finalLoss()),
              number(r.metric()),
              r.samples() == null ? "–" : "[png](" + r.samples() + ")"));
    }
    return b.toString();
  }

  private static String csv(List<Row> rows) {
    StringBuilder b = new StringBuilder("job,state,steps,wall_seconds,final_loss,metric,value\n");
    for (Row r : rows) {
      b.append(
          String.format(
              Locale.ROOT,
              "%s,%s,%d,%.3f,%s,%s,%s%n",
              r.job(),
              r.state(),
              r.steps(),
              r.wallSeconds(),
              Double.isNaN(r.finalLoss()) ? "" : Double.toString(r.finalLoss()),
              r.metricName(),
              Double.isNaN(r.metric()) ? "" : Double.toString(r.metric())));
    }
    return b.toString();
  }

  private static String number(double v) {
    return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.4g", v);
  }

  /** Writes {@code text} through a temporary file: a reader never sees half a table. */
  static void writeAtomically(Path file, String text) throws IOException {
    io.scoreflow.files.AtomicFiles.write(
        file, tmp -> Files.writeString(tmp, text, StandardCharsets.UTF_8));
  }
}
