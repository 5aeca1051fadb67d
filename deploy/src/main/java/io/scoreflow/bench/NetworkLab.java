package io.scoreflow.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * "Hosts" on one machine: each a network namespace with its own address, its cable a veth pair to a
 * bridge in a namespace of its own (the switch), so nothing of the machine's network is touched.
 * Links can be cut ({@link #link}) and throttled ({@link #limit}: {@code tc tbf}, or {@code netem}
 * when a delay is asked for). Needs root or CAP_NET_ADMIN and iproute2; closing kills every process
 * started here and deletes every namespace.
 */
public final class NetworkLab implements AutoCloseable {

  /** One host: its namespace, its address, and its port on the switch. */
  public record Host(String namespace, String address, String switchPort) {}

  /** The kernel (or a missing ip(8)) refused the namespaces: say why and do nothing. */
  public static final class Refused extends Exception {
    Refused(String why) {
      super(why);
    }
  }

  /** What a command printed (stdout and stderr) and its exit code. */
  public record Result(int code, String output) {}

  private final String prefix;
  private final String switchNamespace;
  private final List<Host> hosts = new ArrayList<>();
  private final List<Process> processes = new ArrayList<>();

  private NetworkLab(String prefix) {
    this.prefix = prefix;
    this.switchNamespace = prefix + "sw";
  }

  /**
   * Makes {@code names.size()} hosts called {@code prefix + name} at {@code subnet + address}
   * ({@code subnet} like {@code "10.213.7."}, a /24).
   *
   * @throws Refused when namespaces cannot be made here (no privilege, no ip(8))
   */
  public static NetworkLab create(
      String prefix, String subnet, List<String> names, List<Integer> addresses)
      throws Refused, IOException, InterruptedException {
    NetworkLab lab = new NetworkLab(prefix);
    Result probe;
    try {
      probe = run("ip", "netns", "add", lab.switchNamespace);
    } catch (IOException e) {
      throw new Refused("cannot run ip(8) (install iproute2): " + e.getMessage());
    }
    if (probe.code() != 0) {
      String why = probe.output().toLowerCase(Locale.ROOT);
      if (why.contains("operation not permitted") || why.contains("permission denied")) {
        throw new Refused(
            "the kernel refuses network namespaces here (needs root or CAP_NET_ADMIN): "
                + probe.output().strip());
      }
      throw new IOException("ip netns add " + lab.switchNamespace + " failed: " + probe.output());
    }
    try {
      lab.must("-n", lab.switchNamespace, "link", "set", "lo", "up");
      lab.must("-n", lab.switchNamespace, "link", "add", "br0", "type", "bridge");
      lab.must("-n", lab.switchNamespace, "link", "set", "br0", "up");
      for (int k = 0; k < names.size(); k++) {
        Host h = new Host(prefix + names.get(k), subnet + addresses.get(k), "p" + k);
        lab.must("netns", "add", h.namespace());
        lab.hosts.add(h);
        lab.must("-n", h.namespace(), "link", "set", "lo", "up");
        // The cable: one end is the host's eth0, the other a port of the switch's bridge.
        lab.must(
            "-n",
            lab.switchNamespace,
            "link",
            "add",
            h.switchPort(),
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            h.namespace());
        lab.must("-n", lab.switchNamespace, "link", "set", h.switchPort(), "master", "br0");
        lab.must("-n", lab.switchNamespace, "link", "set", h.switchPort(), "up");
        lab.must("-n", h.namespace(), "addr", "add", h.address() + "/24", "dev", "eth0");
        lab.must("-n", h.namespace(), "link", "set", "eth0", "up");
      }
      return lab;
    } catch (IOException | RuntimeException | InterruptedException e) {
      lab.close();
      throw e;
    }
  }

  public List<Host> hosts() {
    return List.copyOf(hosts);
  }

  /** Plugs {@code host}'s cable in or pulls it ({@code ip link set ... up|down} on the switch). */
  public void link(Host host, boolean up) throws IOException, InterruptedException {
    must("-n", switchNamespace, "link", "set", host.switchPort(), up ? "up" : "down");
  }

  /**
   * Throttles {@code host}'s cable in both directions to {@code rate} (tc's syntax, {@code 1gbit})
   * with {@code tbf}; with {@code delay} (tc's syntax, {@code 0.5ms}; null: none) through {@code
   * netem} instead, which carries both.
   *
   * @throws IOException naming the qdisc the kernel refused (netem is a module some kernels lack)
   */
  public void limit(Host host, String rate, String delay) throws IOException, InterruptedException {
    List<String> qdisc =
        delay == null
            ? List.of("tbf", "rate", rate, "burst", "512kb", "latency", "100ms")
            : List.of("netem", "delay", delay, "rate", rate, "limit", "10000");
    for (String[] where :
        List.of(
            new String[] {host.namespace(), "eth0"},
            new String[] {switchNamespace, host.switchPort()})) {
      List<String> command =
          new ArrayList<>(
              List.of(
                  "ip", "netns", "exec", where[0], "tc", "qdisc", "add", "dev", where[1], "root"));
      command.addAll(qdisc);
      Result r = run(command.toArray(String[]::new));
      if (r.code() != 0) {
        throw new IOException(
            "tc refused "
                + qdisc.get(0)
                + " on "
                + where[1]
                + " of "
                + where[0]
                + ": "
                + r.output().strip()
                + (delay != null ? " (the kernel may lack sch_netem: drop the delay)" : ""));
      }
    }
  }

  /** Starts {@code command} inside {@code host}, its output (both streams) into {@code log}. */
  public Process start(Host host, List<String> command, Path log) throws IOException {
    List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", host.namespace()));
    full.addAll(command);
    Process p =
        new ProcessBuilder(full).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    synchronized (processes) {
      processes.add(p);
    }
    return p;
  }

  /** Runs {@code command} inside {@code host} to its end. */
  public Result exec(Host host, String... command) throws IOException, InterruptedException {
    List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", host.namespace()));
    full.addAll(List.of(command));
    return run(full.toArray(String[]::new));
  }

  private void must(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("ip"));
    command.addAll(List.of(args));
    Result r = run(command.toArray(String[]::new));
    if (r.code() != 0) {
      throw new IOException("ip " + String.join(" ", args) + ": " + r.output().strip());
    }
  }

  static Result run(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return new Result(-1, command[0] + " hung: " + out);
    }
    return new Result(p.exitValue(), out);
  }

  /**
   * Kills every process started here, then deletes every namespace of this lab (deleting a
   * namespace deletes its end of each veth, and with it the other end). Idempotent.
   */
  @Override
  public synchronized void close() {
    List<Process> started;
    synchronized (processes) {
      started = new ArrayList<>(processes);
      processes.clear();
    }
    for (Process p : started) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
    for (Process p : started) {
      try {
        p.waitFor(20, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    try {
      Result list = run("ip", "netns", "list");
      for (String line : list.output().split("\n")) {
        String name = line.strip().split("\\s+")[0];
        if (name.startsWith(prefix)) {
          run("ip", "netns", "delete", name);
        }
      }
    } catch (IOException e) {
      // No ip(8): nothing was created.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
