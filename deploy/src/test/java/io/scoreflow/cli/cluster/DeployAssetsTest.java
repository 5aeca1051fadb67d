package io.scoreflow.cli.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import io.scoreflow.InvalidInputException;
import io.scoreflow.cli.Main;
import io.scoreflow.config.ConfigSchema;
import io.scoreflow.config.Configs;
import io.scoreflow.proto.cluster.ClusterNodes;
import io.scoreflow.run.HostPort;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import picocli.CommandLine;

/**
 * The deployment assets (deploy/k8s, deploy/compose, deploy/slurm, deploy/job.conf, the Dockerfile)
 * checked against the code they drive: every command line goes through the real picocli command
 * tree, every config key must exist in reference.conf, the config loads with {@link Configs}, and
 * every port a manifest declares is the one the command line uses and the code defaults to.
 */
class DeployAssetsTest {

  private static final Path DEPLOY = Path.of("").toAbsolutePath();
  private static final Path JOB_CONF = DEPLOY.resolve("job.conf");

  /** The code's defaults, read from the command objects themselves. */
  private static final int DEFAULT_CLUSTER_PORT = new CoordinatorCommand().port;

  @Test
  void everyYamlFileUnderDeployParses() throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.walk(DEPLOY)) {
      files =
          s.filter(p -> !p.startsWith(DEPLOY.resolve("target")))
              .filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
              .sorted()
              .toList();
    }
    assertTrue(files.size() >= 7, "expected the k8s, compose, prometheus and grafana files");
    for (Path f : files) {
      List<Object> docs = yamlDocuments(f);
      assertFalse(docs.isEmpty(), f + " holds no YAML document");
      for (Object d : docs) {
        assertTrue(d instanceof Map, f + ": every document must be a mapping, got " + d);
      }
    }
  }

  @Test
  void jobConfigLoadsWithScoreflowsLoaderAndUsesOnlyKnownKeys() {
    Config resolved = Configs.load(JOB_CONF.toString(), List.of());
    assertKnownKeys(ConfigFactory.parseFile(JOB_CONF.toFile()), "deploy/job.conf");
    assertEquals("fashion-mnist-ddpmpp", resolved.getString("scoreflow.job.name"));
  }

  @Test
  void kubernetesManifestsMatchTheCode() throws IOException {
    Map<String, Map<String, Object>> byKindAndName = new HashMap<>();
    List<String> files = new ArrayList<>();
    try (Stream<Path> s = Files.list(DEPLOY.resolve("k8s"))) {
      s.filter(p -> p.toString().endsWith(".yaml")).forEach(p -> files.add(p.toString()));
    }
    for (String f : files) {
      for (Object d : yamlDocuments(Path.of(f))) {
        Map<String, Object> doc = map(d);
        if ("Kustomization".equals(doc.get("kind"))) {
          List<Object> resources = list(doc.get("resources"));
          for (String other : files) {
            String name = Path.of(other).getFileName().toString();
            assertTrue(
                name.equals("kustomization.yaml") || resources.contains(name),
                "kustomization.yaml does not list " + name);
          }
          continue;
        }
        String key = doc.get("kind") + "/" + str(map(doc.get("metadata")).get("name"));
        assertNotNull(doc.get("apiVersion"), key + " has no apiVersion");
        assertEquals(null, byKindAndName.put(key, doc), "two manifests define " + key);
      }
    }

    // The ConfigMap: the same job as deploy/job.conf, loadable by scoreflow, known keys only.
    Map<String, Object> configMap = get(byKindAndName, "ConfigMap/scoreflow-job");
    String hocon = str(map(configMap.get("data")).get("job.conf"));
    Config parsed = ConfigFactory.parseString(hocon);
    assertKnownKeys(parsed, "ConfigMap scoreflow-job");
    assertEquals(
        render(ConfigFactory.parseFile(JOB_CONF.toFile())),
        render(parsed),
        "the ConfigMap's job.conf differs from deploy/job.conf");

    Map<String, Object> pvc = get(byKindAndName, "PersistentVolumeClaim/scoreflow-runs");
    assertEquals(
        List.of("ReadWriteMany"),
        map(pvc.get("spec")).get("accessModes"),
        "every worker writes to the run directory: the claim must be ReadWriteMany");

    // The coordinator: Deployment + Service.
    Map<String, Object> deployment = get(byKindAndName, "Deployment/scoreflow-coordinator");
    Map<String, Object> podTemplate = map(map(deployment.get("spec")).get("template"));
    Map<String, Object> container = onlyContainer(podTemplate);
    CoordinatorCommand coordinator =
        parse(CoordinatorCommand.class, substitute(strings(container.get("args")), container));
    Map<String, Object> mounts = mountsByVolume(container);
    Map<String, Object> volumes = volumesByName(podTemplate);
    String configDir = mountPathOfVolume(mounts, volumes, "configMap", "scoreflow-job");
    assertEquals(configDir + "/job.conf", coordinator.config, "CONFIG is not the ConfigMap's file");
    String runsDir = mountPathOfVolume(mounts, volumes, "persistentVolumeClaim", "scoreflow-runs");
    assertTrue(
        coordinator.out.startsWith(Path.of(runsDir)), "--out must be on the shared run volume");
    assertEquals(DEFAULT_CLUSTER_PORT, coordinator.port, "the coordinator's cluster port");
    assertEquals(coordinator.port, containerPort(container, "cluster"));
    Map<String, Object> service = get(byKindAndName, "Service/scoreflow-coordinator");
    assertEquals(coordinator.host, "scoreflow-coordinator", "--host must be the Service's name");
    assertEquals(coordinator.port, servicePort(service, "cluster"));
    assertEquals(
        map(map(deployment.get("spec")).get("selector")).get("matchLabels"),
        map(service.get("spec")).get("selector"),
        "the coordinator Service must select the Deployment's pods");
    // Its canonical host is the Service name, which is not an address of the pod: it must bind
    // to every interface, through a key Pekko knows.
    Map<String, String> jvmProperties = jvmProperties(container);
    assertEquals("0.0.0.0", jvmProperties.get("pekko.remote.artery.bind.hostname"));
    Config node = ClusterNodes.node("127.0.0.1", 0, null, "coordinator");
    jvmProperties.keySet().stream()
        .filter(k -> k.startsWith("pekko."))
        .forEach(k -> assertTrue(node.hasPathOrNull(k), "Pekko has no setting " + k));

    // Prometheus scrapes the port the coordinator serves /metrics on.
    Map<String, Object> annotations = map(map(podTemplate.get("metadata")).get("annotations"));
    assertEquals("true", annotations.get("prometheus.io/scrape"));
    assertNotNull(coordinator.metricsPort, "the scraped coordinator must serve --metrics-port");
    assertEquals(String.valueOf(coordinator.metricsPort), annotations.get("prometheus.io/port"));
    assertEquals(coordinator.metricsPort, containerPort(container, "metrics"));
    assertEquals(coordinator.metricsPort, servicePort(service, "metrics"));

    // The workers: a StatefulSet behind a headless Service, one GPU each.
    Map<String, Object> statefulSet = get(byKindAndName, "StatefulSet/scoreflow-worker");
    Map<String, Object> setSpec = map(statefulSet.get("spec"));
    Map<String, Object> headless = get(byKindAndName, "Service/" + str(setSpec.get("serviceName")));
    assertEquals(
        "None", map(headless.get("spec")).get("clusterIP"), "workers' Service is headless");
    assertEquals(
        map(setSpec.get("selector")).get("matchLabels"), map(headless.get("spec")).get("selector"));
    int replicas = ((Number) setSpec.get("replicas")).intValue();
    assertEquals(coordinator.workers, replicas, "StatefulSet replicas must be --workers");
    assertBatchDivides(parsed, replicas);
    Map<String, Object> workerTemplate = map(setSpec.get("template"));
    Map<String, Object> workerContainer = onlyContainer(workerTemplate);
    WorkerCommand worker =
        parse(
            WorkerCommand.class, substitute(strings(workerContainer.get("args")), workerContainer));
    HostPort join = HostPort.parse(worker.join, "--join");
    assertEquals(str(map(service.get("metadata")).get("name")), join.host());
    assertEquals(coordinator.port, join.port(), "--join must reach the coordinator's port");
    assertEquals("gpu", worker.device);
    assertEquals(worker.port, containerPort(workerContainer, "cluster"));
    assertEquals(worker.exchangePort, containerPort(workerContainer, "exchange"));
    assertEquals(worker.exchangePort, servicePort(headless, "exchange"));
    assertEquals(worker.port, servicePort(headless, "cluster"));
    assertTrue(worker.exchangePort > 0, "a fixed exchange port, so the pod can declare it");
    Map<String, String> workerJvm = jvmProperties(workerContainer);
    Config reference = ConfigFactory.defaultReference();
    workerJvm.keySet().forEach(k -> assertTrue(reference.hasPath(k), "no setting " + k));
    Map<String, Object> resources = map(workerContainer.get("resources"));
    assertEquals(1, map(resources.get("limits")).get("nvidia.com/gpu"), "one GPU per worker");
    assertEquals(1, map(resources.get("requests")).get("nvidia.com/gpu"));
    Map<String, Object> workerMounts = mountsByVolume(workerContainer);
    assertEquals(
        runsDir,
        mountPathOfVolume(
            workerMounts, volumesByName(workerTemplate), "persistentVolumeClaim", "scoreflow-runs"),
        "workers must see the run directory at the coordinator's path");
  }

  @Test
  void composeFileMatchesTheCode() throws IOException {
    Path composeFile = DEPLOY.resolve("compose/compose.yaml");
    Map<String, Object> compose = map(yamlDocuments(composeFile).get(0));
    Map<String, Object> services = map(compose.get("services"));
    Map<String, Object> coordinatorService = map(services.get("coordinator"));
    CoordinatorCommand coordinator =
        parse(CoordinatorCommand.class, strings(coordinatorService.get("command")));
    assertEquals(DEFAULT_CLUSTER_PORT, coordinator.port);
    assertEquals("coordinator", coordinator.host, "--host must be the service name");
    // CONFIG is deploy/job.conf, mounted read-only.
    String mountedConf = null;
    for (Object v : list(coordinatorService.get("volumes"))) {
      String[] parts = str(v).split(":");
      if (parts.length >= 2 && parts[1].equals(coordinator.config)) {
        mountedConf = parts[0];
      }
    }
    assertNotNull(mountedConf, "CONFIG " + coordinator.config + " is not a mounted file");
    assertEquals(
        JOB_CONF.normalize(), composeFile.getParent().resolve(mountedConf).normalize(), "CONFIG");
    assertEquals(String.valueOf(coordinator.metricsPort), labels(coordinatorService).get("port"));
    assertTrue(
        strings(coordinatorService.get("ports"))
            .contains(coordinator.metricsPort + ":" + coordinator.metricsPort),
        "the metrics port is published as itself");

    Set<String> ids = new HashSet<>();
    int workers = 0;
    for (Map.Entry<String, Object> e : services.entrySet()) {
      if (e.getKey().equals("coordinator")) {
        continue;
      }
      Map<String, Object> svc = map(e.getValue());
      WorkerCommand worker = parse(WorkerCommand.class, strings(svc.get("command")));
      workers++;
      HostPort join = HostPort.parse(worker.join, "--join");
      assertEquals("coordinator", join.host(), e.getKey() + ": --join");
      assertEquals(coordinator.port, join.port(), e.getKey() + ": --join port");
      assertEquals(e.getKey(), worker.host, e.getKey() + ": --host must be its service name");
      assertTrue(ids.add(worker.id), "two workers share the id " + worker.id);
      assertTrue(list(svc.get("volumes")).contains("runs:/runs"), e.getKey() + " mounts runs");
    }
    assertEquals(coordinator.workers, workers, "--workers must be the number of worker services");
    assertTrue(coordinator.out.startsWith(Path.of("/runs")));
    assertBatchDivides(ConfigFactory.parseFile(JOB_CONF.toFile()), workers);
    assertEquals(
        "deploy/docker/Dockerfile", map(coordinatorService.get("build")).get("dockerfile"));
  }

  /**
   * Runs the sbatch script with stand-ins for Slurm's {@code srun}/{@code scontrol} (no Slurm here)
   * and a {@code java} that records its arguments, then parses what it would have run.
   */
  @Test
  void slurmScriptStartsOneWorkerPerGpuAndTheCoordinator(@TempDir Path tmp) throws Exception {
    Path bin = Files.createDirectories(tmp.resolve("bin"));
    Path calls = Files.createDirectories(tmp.resolve("calls"));
    script(
        bin.resolve("srun"),
        "ntasks=1",
        "while [ $# -gt 0 ] && [ \"${1#--}\" != \"$1\" ]; do",
        "  case \"$1\" in --ntasks=*) ntasks=\"${1#--ntasks=}\";; esac; shift",
        "done",
        "for ((k = 0; k < ntasks; k++)); do",
        "  SLURM_PROCID=$k SLURM_LOCALID=$((k % 4)) FAKE_NODE=gpu-node-$((k / 4)) \"$@\"",
        "done");
    script(bin.resolve("scontrol"), "printf 'gpu-node-0\\ngpu-node-1\\n'");
    script(bin.resolve("hostname"), "echo \"${FAKE_NODE:-gpu-node-0}\"");
    script(bin.resolve("java"), "printf '%s\\0' \"$@\" > \"$(mktemp \"$CALLS/call.XXXXXX\")\"");
    Path repo = DEPLOY.getParent();
    ProcessBuilder pb =
        new ProcessBuilder("bash", DEPLOY.resolve("slurm/scoreflow.sbatch").toString())
            .redirectErrorStream(true);
    Map<String, String> env = pb.environment();
    env.put("PATH", bin + ":" + env.get("PATH"));
    env.put("CALLS", calls.toString());
    env.put("SLURM_JOB_NODELIST", "gpu-node-[0-1]");
    env.put("SLURM_NTASKS", "8");
    env.put("SLURM_SUBMIT_DIR", repo.toString());
    Process p = pb.start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), "the sbatch script failed: " + output);

    List<List<String>> invocations = new ArrayList<>();
    try (Stream<Path> s = Files.list(calls)) {
      for (Path c : s.toList()) {
        String[] args = Files.readString(c, StandardCharsets.UTF_8).split("\0");
        invocations.add(List.of(args));
      }
    }
    CoordinatorCommand coordinator = null;
    List<WorkerCommand> workers = new ArrayList<>();
    List<List<String>> certsInits = new ArrayList<>();
    for (List<String> argv : invocations) {
      assertTrue(argv.contains("-Dai.djl.offline=true"), "java without ai.djl.offline: " + argv);
      int jar = argv.indexOf("-jar");
      assertTrue(jar >= 0, "java without -jar: " + argv);
      assertEquals(repo.resolve("deploy/target/scoreflow.jar").toString(), argv.get(jar + 1));
      List<String> cli = argv.subList(jar + 2, argv.size());
      if (cli.get(0).equals("certs")) {
        certsInits.add(cli);
      } else if (cli.get(0).equals("coordinator")) {
        assertEquals(null, coordinator, "two coordinators");
        coordinator = parse(CoordinatorCommand.class, cli);
      } else {
        workers.add(parse(WorkerCommand.class, cli));
      }
    }
    assertNotNull(coordinator, "no coordinator started");
    assertEquals(8, workers.size(), "one worker per task (GPU)");
    // The first submission makes the job's certificates, one per worker id the tasks use.
    assertEquals(1, certsInits.size(), "certs init once: " + certsInits);
    List<String> init = certsInits.get(0);
    assertEquals("init", init.get(1));
    assertEquals("8", init.get(init.indexOf("--workers") + 1), "a certificate per task: " + init);
    assertEquals(8, coordinator.workers);
    assertEquals("gpu-node-0", coordinator.host, "the coordinator runs on the first node");
    assertEquals(DEFAULT_CLUSTER_PORT, coordinator.port);
    assertEquals(JOB_CONF.toString(), coordinator.config);
    Configs.load(coordinator.config, coordinator.overrides);
    Set<String> ids = new HashSet<>();
    Set<String> exchangeAddresses = new HashSet<>();
    for (WorkerCommand w : workers) {
      HostPort join = HostPort.parse(w.join, "--join");
      assertEquals(coordinator.host + ":" + coordinator.port, join.toString());
      assertTrue(ids.add(w.id), "duplicate worker id " + w.id);
      assertTrue(w.id.matches("worker-\\d{3}"), "ids that sort in rank order: " + w.id);
      assertTrue(exchangeAddresses.add(w.host + ":" + w.exchangePort), "port clash on " + w.host);
      assertEquals("gpu", w.device);
    }
    assertBatchDivides(ConfigFactory.parseFile(JOB_CONF.toFile()), workers.size());
  }

  @Test
  void dockerfileRunsTheShadedJarOffline() throws IOException {
    String dockerfile = Files.readString(DEPLOY.resolve("docker/Dockerfile"));
    assertTrue(
        dockerfile.contains("COPY deploy/target/scoreflow.jar /opt/scoreflow/scoreflow.jar"));
    Matcher entry = Pattern.compile("(?m)^ENTRYPOINT (\\[.*])$").matcher(dockerfile);
    int entrypoints = 0;
    while (entry.find()) {
      entrypoints++;
      List<Object> argv = list(new Yaml().load(entry.group(1)));
      assertEquals("java", argv.get(0));
      assertTrue(argv.contains("-Dai.djl.offline=true"));
      assertEquals("/opt/scoreflow/scoreflow.jar", argv.get(argv.indexOf("-jar") + 1));
    }
    assertEquals(2, entrypoints, "the cpu and gpu stages");
    // The images the manifests run are the ones this file builds.
    assertTrue(dockerfile.contains(" AS cpu") && dockerfile.contains(" AS gpu"));
    assertTrue(dockerfile.contains("PYTORCH_FLAVOR=cu128"));
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private static List<Object> yamlDocuments(Path file) throws IOException {
    Yaml yaml = new Yaml(new SafeConstructor(new LoaderOptions()));
    List<Object> docs = new ArrayList<>();
    try (var in = Files.newInputStream(file)) {
      for (Object d : yaml.loadAll(in)) {
        if (d != null) {
          docs.add(d);
        }
      }
    } catch (org.yaml.snakeyaml.error.YAMLException e) {
      fail(file + " is not valid YAML: " + e.getMessage());
    }
    return docs;
  }

  /** Parses {@code args} with the real command tree; the subcommand must be of type {@code T}. */
  private static <T> T parse(Class<T> type, List<String> args) {
    CommandLine cli = new CommandLine(new Main());
    CommandLine.ParseResult result;
    try {
      result = cli.parseArgs(args.toArray(String[]::new));
    } catch (CommandLine.ParameterException e) {
      throw new AssertionError("scoreflow refuses " + args + ": " + e.getMessage(), e);
    }
    assertTrue(result.hasSubcommand(), "no subcommand in " + args);
    Object command = result.subcommand().commandSpec().userObject();
    assertTrue(type.isInstance(command), args + " is not a " + type.getSimpleName());
    return type.cast(command);
  }

  /**
   * Every key of {@code config} must be one that reference.conf defines (the schema every command
   * checks a config against), with a value of the kind it takes.
   */
  private static void assertKnownKeys(Config config, String where) {
    ConfigSchema schema = ConfigSchema.reference();
    try {
      schema.checkTopLevel(config);
      schema.check(config.withFallback(ConfigFactory.defaultReference()).resolve());
    } catch (InvalidInputException e) {
      throw new AssertionError(where + ": " + e.getMessage(), e);
    }
  }

  private static void assertBatchDivides(Config job, int workers) {
    int batch = Configs.load(JOB_CONF.toString(), List.of()).getInt("scoreflow.train.batch-size");
    if (job.hasPath("scoreflow.train.batch-size")) {
      batch = job.getInt("scoreflow.train.batch-size");
    }
    assertEquals(0, batch % workers, "batch " + batch + " does not divide over " + workers);
  }

  private static String render(Config c) {
    return c.root().render(ConfigRenderOptions.concise().setJson(false));
  }

  /**
   * Kubernetes' {@code $(VAR)} expansion with the container's env; a downward-API value becomes a
   * plausible sample, an unknown variable fails.
   */
  private static List<String> substitute(List<String> args, Map<String, Object> container) {
    Map<String, String> env = new HashMap<>();
    for (Object o : list(container.getOrDefault("env", List.of()))) {
      Map<String, Object> e = map(o);
      String name = str(e.get("name"));
      if (e.containsKey("value")) {
        env.put(name, str(e.get("value")));
      } else {
        String field = str(map(map(e.get("valueFrom")).get("fieldRef")).get("fieldPath"));
        env.put(
            name,
            switch (field) {
              case "metadata.name" -> "scoreflow-worker-0";
              case "status.podIP" -> "10.42.0.17";
              default -> throw new AssertionError("unexpected fieldRef " + field);
            });
      }
    }
    List<String> out = new ArrayList<>();
    Pattern var = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)");
    for (String a : args) {
      Matcher m = var.matcher(a);
      StringBuilder sb = new StringBuilder();
      while (m.find()) {
        String value = env.get(m.group(1));
        assertNotNull(value, "argument " + a + " uses $(" + m.group(1) + "), which env lacks");
        m.appendReplacement(sb, Matcher.quoteReplacement(value));
      }
      m.appendTail(sb);
      out.add(sb.toString());
    }
    return out;
  }

  private static Map<String, String> jvmProperties(Map<String, Object> container) {
    Map<String, String> props = new HashMap<>();
    for (Object o : list(container.getOrDefault("env", List.of()))) {
      Map<String, Object> e = map(o);
      if ("JAVA_TOOL_OPTIONS".equals(e.get("name"))) {
        for (String opt : str(e.get("value")).split("\\s+")) {
          if (opt.startsWith("-D") && opt.contains("=")) {
            props.put(opt.substring(2, opt.indexOf('=')), opt.substring(opt.indexOf('=') + 1));
          }
        }
      }
    }
    return props;
  }

  private static Map<String, Object> onlyContainer(Map<String, Object> podTemplate) {
    List<Object> containers = list(map(podTemplate.get("spec")).get("containers"));
    assertEquals(1, containers.size());
    Map<String, Object> c = map(containers.get(0));
    assertTrue(str(c.get("image")).startsWith("scoreflow:"), "the image deploy/docker builds");
    return c;
  }

  private static Map<String, Object> mountsByVolume(Map<String, Object> container) {
    Map<String, Object> out = new HashMap<>();
    for (Object o : list(container.get("volumeMounts"))) {
      out.put(str(map(o).get("name")), map(o).get("mountPath"));
    }
    return out;
  }

  private static Map<String, Object> volumesByName(Map<String, Object> podTemplate) {
    Map<String, Object> out = new HashMap<>();
    for (Object o : list(map(podTemplate.get("spec")).get("volumes"))) {
      out.put(str(map(o).get("name")), o);
    }
    return out;
  }

  private static String mountPathOfVolume(
      Map<String, Object> mounts, Map<String, Object> volumes, String type, String source) {
    for (Map.Entry<String, Object> v : volumes.entrySet()) {
      Object ref = map(v.getValue()).get(type);
      if (ref != null) {
        Map<String, Object> r = map(ref);
        Object name = type.equals("configMap") ? r.get("name") : r.get("claimName");
        if (source.equals(name)) {
          Object path = mounts.get(v.getKey());
          assertNotNull(path, "volume " + v.getKey() + " is not mounted");
          return str(path);
        }
      }
    }
    throw new AssertionError("no " + type + " volume of " + source);
  }

  private static int containerPort(Map<String, Object> container, String name) {
    for (Object o : list(container.get("ports"))) {
      if (name.equals(map(o).get("name"))) {
        return ((Number) map(o).get("containerPort")).intValue();
      }
    }
    throw new AssertionError("container declares no port " + name);
  }

  private static int servicePort(Map<String, Object> service, String name) {
    for (Object o : list(map(service.get("spec")).get("ports"))) {
      if (name.equals(map(o).get("name"))) {
        Object target = map(o).get("targetPort");
        assertTrue(target == null || target.equals(name), "targetPort is the named port");
        return ((Number) map(o).get("port")).intValue();
      }
    }
    throw new AssertionError("Service declares no port " + name);
  }

  private static Map<String, String> labels(Map<String, Object> service) {
    Map<String, String> out = new HashMap<>();
    map(service.get("labels")).forEach((k, v) -> out.put(k.replace("prometheus.io/", ""), str(v)));
    return out;
  }

  private static Map<String, Object> get(Map<String, Map<String, Object>> docs, String key) {
    Map<String, Object> d = docs.get(key);
    assertNotNull(d, "deploy/k8s defines no " + key + " (has " + docs.keySet() + ")");
    return d;
  }

  private static void script(Path file, String... lines) throws IOException {
    Files.writeString(file, "#!/usr/bin/env bash\n" + String.join("\n", lines) + "\n");
    assertTrue(file.toFile().setExecutable(true));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    assertTrue(o instanceof Map, "expected a mapping, got " + o);
    return (Map<String, Object>) o;
  }

  @SuppressWarnings("unchecked")
  private static List<Object> list(Object o) {
    assertTrue(o instanceof List, "expected a list, got " + o);
    return (List<Object>) o;
  }

  private static List<String> strings(Object o) {
    return list(o).stream().map(DeployAssetsTest::str).toList();
  }

  private static String str(Object o) {
    assertNotNull(o);
    return o.toString();
  }
}
