package io.scoreflow.cli.certs;

import io.scoreflow.InvalidInputException;
import io.scoreflow.cli.output.Json;
import io.scoreflow.security.CertificateDirectory;
import io.scoreflow.security.JobCa;
import io.scoreflow.security.NodeIdentity;
import io.scoreflow.security.TlsMaterial;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code scoreflow certs}: make and inspect a job's certificates. */
@Command(
    name = "certs",
    mixinStandardHelpOptions = true,
    description =
        "The job's certificate authority and node certificates: every channel between nodes runs"
            + " mutual TLS from one job CA (see docs/security.md).",
    subcommands = {CertsCommand.Init.class, CertsCommand.Issue.class, CertsCommand.Show.class})
public final class CertsCommand {

  /** Validity in days, as a flag. */
  static Duration days(int days, String flag) {
    InvalidInputException.require(days >= 1, "%s must be >= 1, got %s", flag, days);
    return Duration.ofDays(days);
  }

  @Command(
      name = "init",
      mixinStandardHelpOptions = true,
      description = {
        "Makes a new job CA in DIR (ca.crt, ca.key) and certificates for the coordinator and the"
            + " workers (NAME.crt, NAME.key). Give every node ca.crt and its own pair; keep ca.key"
            + " where certificates are issued. Nothing existing is overwritten.",
        "Exit code: 0 done, 2 bad input."
      })
  static final class Init implements Callable<Integer> {
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--dir", required = true, paramLabel = "DIR", description = "Where to write.")
    Path dir;

    @Option(
        names = "--job",
        paramLabel = "NAME",
        description = "The job the CA is for (its name in the CA's subject; default scoreflow).")
    String job = "scoreflow";

    @Option(
        names = "--workers",
        paramLabel = "N",
        description = "Certificates for worker-000 .. worker-(N-1), the ids train --workers uses.")
    int workers;

    @Option(
        names = "--worker-ids",
        split = ",",
        paramLabel = "ID",
        description = "Certificates for these worker ids (beside or instead of --workers).")
    List<String> workerIds = new ArrayList<>();

    @Option(
        names = "--samplers",
        split = ",",
        paramLabel = "NAME",
        description = "Certificates for stand-alone samplers of these names.")
    List<String> samplers = new ArrayList<>();

    @Option(names = "--ca-days", paramLabel = "D", description = "CA validity (default 3650).")
    int caDays = 3650;

    @Option(names = "--days", paramLabel = "D", description = "Node validity (default 365).")
    int days = 365;

    @Override
    public Integer call() throws IOException {
      InvalidInputException.require(
          workers >= 0 && workers <= 10_000, "--workers must be in 0..10000, got %s", workers);
      if (Files.exists(dir.resolve(CertificateDirectory.CA_CERT))) {
        throw new InvalidInputException(
            dir.resolve(CertificateDirectory.CA_CERT)
                + " already exists; nothing was overwritten (issue more with: scoreflow certs"
                + " issue --dir "
                + dir
                + ")");
      }
      List<NodeIdentity> nodes = new ArrayList<>();
      nodes.add(NodeIdentity.coordinator());
      for (int k = 0; k < workers; k++) {
        nodes.add(NodeIdentity.worker(String.format(Locale.ROOT, "worker-%03d", k)));
      }
      workerIds.forEach(id -> nodes.add(NodeIdentity.worker(id)));
      samplers.forEach(name -> nodes.add(NodeIdentity.sampler(name)));
      long distinct = nodes.stream().map(NodeIdentity::name).distinct().count();
      InvalidInputException.require(
          distinct == nodes.size(), "every node needs its own name: %s names twice", nodes);
      Duration nodeValidity = days(days, "--days");
      JobCa ca = JobCa.create(job, days(caDays, "--ca-days"));
      ca.writeTo(dir);
      PrintWriter out = spec.commandLine().getOut();
      out.println(dir.resolve(CertificateDirectory.CA_CERT) + ": CA of job " + job);
      for (NodeIdentity id : nodes) {
        CertificateDirectory.write(dir, ca.issue(id, nodeValidity));
        out.println(dir.resolve(id.name() + ".crt") + ": " + id);
      }
      return 0;
    }
  }

  @Command(
      name = "issue",
      mixinStandardHelpOptions = true,
      description = {
        "Issues a certificate from the CA in DIR for one more node (a new worker, a replacement"
            + " for an expiring or compromised one after deleting its old pair).",
        "Exit code: 0 done, 2 bad input."
      })
  static final class Issue implements Callable<Integer> {
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--dir", required = true, paramLabel = "DIR", description = "The CA's dir.")
    Path dir;

    @Option(
        names = "--role",
        paramLabel = "ROLE",
        description = "worker (default), sampler or coordinator.")
    String role = "worker";

    @Option(
        names = "--name",
        required = true,
        paramLabel = "NAME",
        description = "The worker id (or sampler name).")
    String name;

    @Option(names = "--days", paramLabel = "D", description = "Validity (default 365).")
    int days = 365;

    @Override
    public Integer call() {
      NodeIdentity.Role r = NodeIdentity.Role.parse(role);
      NodeIdentity id =
          r == NodeIdentity.Role.COORDINATOR
              ? NodeIdentity.coordinator()
              : new NodeIdentity(r, name);
      JobCa ca = JobCa.load(dir);
      CertificateDirectory.write(dir, ca.issue(id, days(days, "--days")));
      spec.commandLine().getOut().println(dir.resolve(id.name() + ".crt") + ": " + id);
      return 0;
    }
  }

  @Command(
      name = "show",
      mixinStandardHelpOptions = true,
      description = {
        "Lists the certificates in DIR: whom each names, until when it is valid, and whether it"
            + " verifies against ca.crt and its key.",
        "Exit code: 0 all verify, 1 one does not, 2 bad input."
      })
  static final class Show implements Callable<Integer> {
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--dir", required = true, paramLabel = "DIR", description = "The directory.")
    Path dir;

    @Option(names = "--json", description = "One JSON object.")
    boolean json;

    @Override
    public Integer call() throws IOException {
      var ca = CertificateDirectory.caCertificate(dir);
      List<Map<String, Object>> nodes = new ArrayList<>();
      boolean allValid = true;
      List<Path> certs;
      try (Stream<Path> files = Files.list(dir)) {
        certs =
            files
                .filter(p -> p.getFileName().toString().endsWith(".crt"))
                .filter(p -> !p.getFileName().toString().equals(CertificateDirectory.CA_CERT))
                .sorted()
                .toList();
      }
      for (Path cert : certs) {
        String name = cert.getFileName().toString().replaceFirst("\\.crt$", "");
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("name", name);
        try {
          TlsMaterial m = CertificateDirectory.load(dir, name);
          row.put("identity", m.identity().uri());
          row.put("not_after", m.self().certificate().getNotAfter().toInstant().toString());
          row.put(
              "days_left",
              Duration.between(Instant.now(), m.self().certificate().getNotAfter().toInstant())
                  .toDays());
          row.put("valid", true);
        } catch (InvalidInputException e) {
          row.put("valid", false);
          row.put("problem", e.getMessage());
          allValid = false;
        }
        nodes.add(row);
      }
      PrintWriter out = spec.commandLine().getOut();
      if (json) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("ca", ca.getSubjectX500Principal().getName());
        doc.put("ca_not_after", ca.getNotAfter().toInstant().toString());
        doc.put("nodes", nodes);
        Json.print(out, doc);
      } else {
        out.println(
            "CA: "
                + ca.getSubjectX500Principal()
                + ", valid until "
                + ca.getNotAfter().toInstant());
        for (Map<String, Object> row : nodes) {
          out.println(
              Boolean.TRUE.equals(row.get("valid"))
                  ? String.format(
                      Locale.ROOT,
                      "%-20s %s, valid until %s (%s days)",
                      row.get("name"),
                      row.get("identity"),
                      row.get("not_after"),
                      row.get("days_left"))
                  : String.format(
                      Locale.ROOT, "%-20s INVALID: %s", row.get("name"), row.get("problem")));
        }
      }
      return allValid ? 0 : 1;
    }
  }
}
