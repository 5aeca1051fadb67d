package io.scoreflow.layout;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The layout, as rules the build checks. The module graph is a fork: {@code deploy} → {{@code
 * coordinator}, {@code worker}} → {{@code common}, {@code proto}}, and {@code common} uses nothing
 * of ours but {@code proto}. Each node module owns one package tree ({@code io.scoreflow.worker..},
 * {@code io.scoreflow.coordinator..}), the contracts live in {@code io.scoreflow.proto..}, and the
 * distribution in {@code io.scoreflow.cli..} (the commands, a sub-package per group) and {@code
 * io.scoreflow.bench..} (benchmarks, which only the bench commands use). Rules over packages would
 * say nothing if a class sat in the right package of the wrong module, so the first rule ties
 * packages to modules.
 */
class ArchitectureTest {

  private static JavaClasses ours;

  @BeforeAll
  static void importProductionClasses() {
    ours =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.scoreflow");
  }

  /** The Maven module a class was loaded from, by its class-path entry. */
  static String moduleOf(JavaClass c) {
    String uri = c.getSource().map(s -> s.getUri().toString()).orElse("");
    Matcher jar =
        Pattern.compile("scoreflow-(proto|common|worker|coordinator|deploy)-").matcher(uri);
    if (jar.find()) {
      return jar.group(1);
    }
    Matcher dir =
        Pattern.compile("/(proto|common|worker|coordinator|deploy)/target/classes/").matcher(uri);
    return dir.find() ? dir.group(1) : "unknown (" + uri + ")";
  }

  /** The module a class's package says it belongs to. */
  static String moduleOfPackage(String pkg) {
    if (pkg.startsWith("io.scoreflow.proto")) {
      return "proto";
    }
    if (pkg.startsWith("io.scoreflow.worker")) {
      return "worker";
    }
    if (pkg.startsWith("io.scoreflow.coordinator")) {
      return "coordinator";
    }
    if (pkg.startsWith("io.scoreflow.cli") || pkg.startsWith("io.scoreflow.bench")) {
      return "deploy";
    }
    return "common";
  }

  @Test
  void everyPackageLivesInItsModule() {
    classes()
        .should(
            new ArchCondition<JavaClass>("live in the module its package names") {
              @Override
              public void check(JavaClass c, ConditionEvents events) {
                String module = moduleOf(c);
                String expected = moduleOfPackage(c.getPackageName());
                if (!module.equals(expected)) {
                  events.add(
                      SimpleConditionEvent.violated(
                          c,
                          c.getName()
                              + " is in module "
                              + module
                              + ", its package in "
                              + expected));
                }
              }
            })
        .check(ours);
  }

  @Test
  void workerAndCoordinatorNeverImportEachOther() {
    noClasses()
        .that()
        .resideInAPackage("io.scoreflow.worker..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("io.scoreflow.coordinator..")
        .because("worker and coordinator meet only in proto and common")
        .check(ours);
    noClasses()
        .that()
        .resideInAPackage("io.scoreflow.coordinator..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("io.scoreflow.worker..")
        .because("worker and coordinator meet only in proto and common")
        .check(ours);
  }

  @Test
  void commonUsesNothingOfOursButProto() {
    noClasses()
        .that(inModule("common"))
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "io.scoreflow.worker..",
            "io.scoreflow.coordinator..",
            "io.scoreflow.cli..",
            "io.scoreflow.bench..")
        .check(ours);
  }

  @Test
  void protoUsesNothingOfOurs() {
    noClasses()
        .that()
        .resideInAPackage("io.scoreflow.proto..")
        .should()
        .dependOnClassesThat(inModule("common").or(inModule("worker")).or(inModule("coordinator")))
        .because("the contracts are what every module may depend on, so they depend on none")
        .check(ours);
  }

  @Test
  void productionNeverUsesBenchmarks() {
    noClasses()
        .that()
        .resideOutsideOfPackages("io.scoreflow.bench..", "io.scoreflow.cli.bench..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("io.scoreflow.bench..")
        .because("benchmark code runs only from the bench commands")
        .check(ours);
  }

  @Test
  void noPackageCycles() {
    slices().matching("io.scoreflow.(**)").should().beFreeOfCycles().check(ours);
  }

  private static DescribedPredicate<JavaClass> inModule(String module) {
    return DescribedPredicate.describe(
        "in module " + module,
        c ->
            c.getPackageName().startsWith("io.scoreflow")
                && moduleOfPackage(c.getPackageName()).equals(module));
  }
}
