package io.scoreflow.files;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** The committed seed files of one format (test resources {@code fuzz-corpus/<format>/}). */
public final class Corpus {
  private Corpus() {}

  /** The {@code ok-*} and {@code bad-*} files of {@code format}, sorted; never empty. */
  public static List<Path> files(String format) {
    URL url = Corpus.class.getResource("/fuzz-corpus/" + format);
    if (url == null) {
      throw new IllegalStateException("no seed corpus for " + format);
    }
    try (Stream<Path> files = Files.list(Path.of(url.toURI()))) {
      List<Path> seeds =
          files.filter(p -> p.getFileName().toString().matches("(ok|bad)-.*")).sorted().toList();
      if (seeds.isEmpty()) {
        throw new IllegalStateException("the seed corpus of " + format + " is empty");
      }
      return seeds;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Whether a seed file is one that must load. */
  public static boolean valid(Path seed) {
    return seed.getFileName().toString().startsWith("ok-");
  }
}
