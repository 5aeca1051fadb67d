package io.scoreflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.scoreflow.metrics.ClusterMetrics;
import io.scoreflow.metrics.EvaluationMetrics;
import io.scoreflow.metrics.SweepMetrics;
import io.scoreflow.metrics.TrainingMetrics;
import io.scoreflow.train.StepResult;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** deploy/grafana and deploy/prometheus against the metrics the code exports. */
class MetricsAssetsTest {

  static final Path DASHBOARD = Path.of("grafana/dashboards/scoreflow.json");
  static final Path PROMETHEUS_CONFIG = Path.of("prometheus/prometheus.yml");
  private static final Pattern METRIC = Pattern.compile("\\bscoreflow_[a-z0-9_]+");

  /** Every series name the nodes export, read from the text exposition of a live registry. */
  static Set<String> exportedNames() throws Exception {
    Set<String> names = new TreeSet<>();
    for (String line : exposition().split("\n")) {
      if (!line.startsWith("#") && !line.isBlank()) {
        names.add(line.split("[{ ]", 2)[0]);
      }
    }
    return names;
  }

  /** The text exposition of a registry in which every metric has a value. */
  static String exposition() throws Exception {
    PrometheusRegistry registry = new PrometheusRegistry();
    TrainingMetrics training = new TrainingMetrics(registry, "r", 0, () -> 1_000L);
    EvaluationMetrics eval = new EvaluationMetrics(registry, "r");
    ClusterMetrics cluster = new ClusterMetrics(registry);
    SweepMetrics sweep = new SweepMetrics(registry, "r");
    training.onStep(
        new StepResult(
            0, 1, 1, 1e-4, 8, 1, 1, 1, io.scoreflow.train.ParameterChecksum.of(new float[] {1f})));
    training.onAllReduce(10, 10);
    training.onCheckpoint(1);
    eval.onFid(1, 1);
    eval.onInceptionScore(1, 1);
    eval.onKid(1, 1);
    eval.onFallbackFd(1, 1);
    eval.onW2(1, 1);
    eval.onSampled(1, 1);
    cluster.onMembership("r", 2, 1);
    sweep.onJobs(1, 2, 3, 0);
    sweep.onWorkers(4);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    new PrometheusTextFormatWriter(false).write(out, registry.scrape());
    return out.toString(StandardCharsets.UTF_8);
  }

  static List<String> dashboardQueries() throws Exception {
    JsonNode dashboard = new ObjectMapper().readTree(DASHBOARD.toFile());
    List<String> queries = new ArrayList<>();
    for (JsonNode panel : dashboard.get("panels")) {
      for (JsonNode target : panel.get("targets")) {
        queries.add(target.get("expr").asText());
      }
    }
    for (JsonNode variable : dashboard.get("templating").get("list")) {
      queries.add(variable.get("definition").asText());
    }
    return queries;
  }

  @Test
  void everyDashboardQueryNamesAnExportedMetric() throws Exception {
    JsonNode dashboard = new ObjectMapper().readTree(DASHBOARD.toFile());
    assertEquals("scoreflow-training", dashboard.get("uid").asText());
    assertTrue(dashboard.get("panels").size() >= 8);
    Set<String> exported = exportedNames();
    Set<String> used = new TreeSet<>();
    for (String query : dashboardQueries()) {
      Matcher m = METRIC.matcher(query);
      boolean any = false;
      while (m.find()) {
        any = true;
        used.add(m.group());
        assertTrue(
            exported.contains(m.group()),
            m.group() + " in '" + query + "' is not exported; exported: " + exported);
      }
      assertTrue(any, "query names no scoreflow metric: " + query);
    }
    // The dashboard shows what DESIGN.md promises: loss, step, throughput, phases, all-reduce,
    // workers, generation, checkpoint step and age, FID / IS / fallback FD / W2, samplers.
    for (String needed :
        List.of(
            "scoreflow_train_loss",
            "scoreflow_train_step",
            "scoreflow_train_samples_total",
            "scoreflow_train_phase_seconds_total",
            "scoreflow_allreduce_bytes_total",
            "scoreflow_cluster_workers",
            "scoreflow_cluster_generation",
            "scoreflow_checkpoint_step",
            "scoreflow_checkpoint_age_seconds",
            "scoreflow_eval_fid",
            "scoreflow_eval_fd_fallback",
            "scoreflow_eval_inception_score",
            "scoreflow_eval_kid",
            "scoreflow_eval_w2",
            "scoreflow_sampler_images_total")) {
      assertTrue(used.contains(needed), "dashboard lacks " + needed);
    }
  }

  @Test
  void promtoolAcceptsTheConfigAndEveryQuery(@TempDir Path dir) throws Exception {
    assumeTrue(
        Files.isExecutable(Path.of("/usr/bin/promtool")),
        "promtool (Debian package prometheus) is not installed; .ci/run installs it");
    assertEquals(0, run("promtool", "check", "config", PROMETHEUS_CONFIG.toString()));
    // promtool has no "check query"; a rule file with one recording rule per query makes it
    // parse every expression with Prometheus' own PromQL parser.
    StringBuilder rules = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
    int i = 0;
    for (String q : dashboardQueries()) {
      if (q.startsWith("label_values(")) {
        continue; // a Grafana function, not PromQL
      }
      String expr = q.replace("$run", ".*").replace("'", "''");
      rules.append("      - record: dashboard_query_").append(i++).append("\n");
      rules.append("        expr: '").append(expr).append("'\n");
    }
    Path file = dir.resolve("rules.yml");
    Files.writeString(file, rules);
    assertEquals(0, run("promtool", "check", "rules", file.toString()), rules.toString());
  }

  private static int run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).inheritIO().start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "timed out: " + String.join(" ", command));
    return p.exitValue();
  }

  @Test
  void everyExportedSeriesNamesItsRun() throws Exception {
    // Prometheus reserves the label `job` for the scrape target: a run is told apart by `run`.
    for (String line : exposition().split("\n")) {
      if (!line.startsWith("#") && !line.isBlank()) {
        assertTrue(line.contains("run=\"r\""), "series without its run label: " + line);
        assertFalse(line.contains("job="), "series uses the reserved label job: " + line);
      }
    }
  }
}
