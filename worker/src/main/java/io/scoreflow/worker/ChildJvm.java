package io.scoreflow.worker;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The one way scoreflow starts a process of its own: the same JVM binary and class path as this
 * one, {@code -Dai.djl.offline=true} (libtorch comes from the class path, nothing is fetched) and
 * {@code OMP_WAIT_POLICY=PASSIVE} (libtorch's OpenMP threads must not spin when several processes
 * share a few cores), {@code MKL_NUM_THREADS=1} and {@code MALLOC_PERTURB_=255} (on some AMD EPYC
 * machines libtorch's CPU kernels read memory they never wrote; see the launcher). Used for the
 * worker processes of {@code train --workers N} and for the ring benchmark's processes.
 */
public final class ChildJvm {

  private ChildJvm() {}

  /**
   * A process builder for {@code mainClass args} in a child JVM with {@code jvmOptions}; the caller
   * decides where its output goes.
   */
  public static ProcessBuilder builder(
      List<String> jvmOptions, String mainClass, List<String> args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Dai.djl.offline=true");
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(classPath());
    command.add(mainClass);
    command.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(command);
    // A user's own setting wins, as in the launcher.
    pb.environment().putIfAbsent("OMP_WAIT_POLICY", "PASSIVE");
    pb.environment().putIfAbsent("MKL_NUM_THREADS", "1");
    pb.environment().putIfAbsent("MALLOC_PERTURB_", "255");
    return pb;
  }

  /**
   * This JVM's class path. Under Surefire's forked JVM, {@code java.class.path} is a manifest-only
   * jar whose manifest lists the real entries, which a child JVM resolves the same way; Surefire
   * also publishes the plain list, preferred when present.
   */
  static String classPath() {
    String surefire = System.getProperty("surefire.test.class.path");
    return surefire != null && !surefire.isEmpty()
        ? surefire
        : System.getProperty("java.class.path");
  }
}
