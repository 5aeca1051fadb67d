package io.scoreflow.math;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import java.util.function.Supplier;

/**
 * libtorch's grad mode, which is per thread: off on the thread that started the engine, on in any
 * other. Code that writes into parameters in place (restoring a checkpoint) or that must not record
 * a graph (sampling) runs through {@link #off} so it behaves the same on every thread; otherwise
 * libtorch refuses the in-place write ("a view of a leaf Variable that requires grad is being used
 * in an in-place operation"). The gradient collector switches it on around a backward pass itself.
 */
public final class GradMode {

  private GradMode() {}

  /** Runs {@code work} with grad mode off on this thread, then restores the thread's mode. */
  public static <T> T off(Supplier<T> work) {
    // JniUtils is only usable once the engine has loaded libtorch: in a fresh JVM where nothing has
    // touched the engine yet (sample --device cpu) it would fail with an UnsatisfiedLinkError.
    Engine.getInstance();
    boolean was = JniUtils.isGradMode();
    JniUtils.setGradMode(false);
    try {
      return work.get();
    } finally {
      JniUtils.setGradMode(was);
    }
  }

  /** As {@link #off(Supplier)}, for work without a result. */
  public static void off(Runnable work) {
    off(
        () -> {
          work.run();
          return null;
        });
  }
}
