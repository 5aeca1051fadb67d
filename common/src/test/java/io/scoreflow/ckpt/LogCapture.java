package io.scoreflow.ckpt;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Captures what slf4j-simple (the test binding) prints. It writes to whatever {@code System.err} is
 * at the time of each line, so swapping the stream is enough; the text is also passed on.
 */
final class LogCapture implements AutoCloseable {
  private final PrintStream original = System.err;
  private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();

  private LogCapture() {
    System.setErr(
        new PrintStream(
            new java.io.OutputStream() {
              @Override
              public void write(int b) {
                buffer.write(b);
                original.write(b);
              }

              @Override
              public void write(byte[] b, int off, int len) {
                buffer.write(b, off, len);
                original.write(b, off, len);
              }
            },
            true,
            StandardCharsets.UTF_8));
  }

  static LogCapture start() {
    return new LogCapture();
  }

  List<String> lines() {
    System.err.flush();
    return buffer.toString(StandardCharsets.UTF_8).lines().toList();
  }

  /** Lines at WARN that contain every one of {@code parts}. */
  List<String> warnings(String... parts) {
    return lines().stream()
        .filter(line -> line.contains(" WARN "))
        .filter(line -> java.util.Arrays.stream(parts).allMatch(line::contains))
        .toList();
  }

  @Override
  public void close() {
    System.setErr(original);
  }
}
