package io.scoreflow.ckpt;

import static io.scoreflow.ckpt.InvalidCheckpointException.Reason.CHECKSUM_MISMATCH;
import static io.scoreflow.ckpt.InvalidCheckpointException.Reason.FORMAT_VERSION;
import static io.scoreflow.ckpt.InvalidCheckpointException.Reason.MALFORMED_MANIFEST;
import static io.scoreflow.ckpt.InvalidCheckpointException.Reason.MALFORMED_TENSORS;
import static io.scoreflow.ckpt.InvalidCheckpointException.Reason.MISSING_DIRECTORY;
import static io.scoreflow.ckpt.InvalidCheckpointException.Reason.MISSING_FILE;
import static io.scoreflow.ckpt.InvalidCheckpointException.Reason.MISSING_MANIFEST;
import static io.scoreflow.ckpt.InvalidCheckpointException.Reason.SIZE_MISMATCH;
import static io.scoreflow.ckpt.InvalidCheckpointException.Reason.STEP_MISMATCH;
import static io.scoreflow.ckpt.InvalidCheckpointException.Reason.UNREADABLE;

import ai.djl.Device;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import io.scoreflow.InvalidInputException;
import io.scoreflow.files.InvalidFileException;
import io.scoreflow.files.Safetensors;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Function;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds, verifies and loads checkpoints under a root. Reading needs no lock and changes nothing, so
 * any process (a trainer resuming, an evaluator, a tool) can use it while a writer works.
 *
 * <p>{@code LATEST} is the commit point: checkpoints up to the step it names are committed, and a
 * directory newer than it was renamed into place by a writer that died before committing it, so it
 * is ignored.
 *
 * <p>A checkpoint verifies completely when: {@code manifest.sha256} matches the manifest's bytes
 * (format 2; a format-1 checkpoint has none and is read as an "unverified manifest"), the manifest
 * parses and names the directory's step, every file it lists has its recorded size and SHA-256, and
 * every tensor group decodes. Sizes and digests are checked before any tensor is decoded, and the
 * digest again while decoding, so a file that changes in between is caught too. Every search for
 * the newest checkpoint ({@link #search}, {@link #newestValid}) and every load goes through that
 * one complete check; {@link #verify} and {@link #verifyDirectory} check the bytes only, for
 * callers that copy a checkpoint rather than load it.
 */
public final class CheckpointReader {
  private static final Logger LOG = LoggerFactory.getLogger(CheckpointReader.class);

  private final Path root;

  private CheckpointReader(Path root) {
    this.root = root;
  }

  /** A reader of {@code root}; the root need not exist yet (then there is no checkpoint). */
  public static CheckpointReader of(Path root) {
    if (Files.exists(root) && !Files.isDirectory(root)) {
      throw new InvalidInputException("checkpoint root " + root + " is not a directory");
    }
    return new CheckpointReader(root);
  }

  public Path root() {
    return root;
  }

  /**
   * Looks for the newest committed checkpoint that verifies completely and loads it into {@code
   * manager}. Each one that fails is skipped with a WARN line naming the directory and the reason,
   * and is listed in the result.
   *
   * @throws InvalidCheckpointException with {@link
   *     InvalidCheckpointException.Reason#FORMAT_VERSION} if a checkpoint newer than the one found
   *     has another format: falling back past it would silently discard that run's progress
   */
  public CheckpointSearch<LoadedCheckpoint> search(NDManager manager) {
    return newest(dir -> loadDirectory(dir, manager), Long.MAX_VALUE);
  }

  /**
   * As {@link #search(NDManager)}, among the committed checkpoints of a step no later than {@code
   * bound} (a distributed run goes back to the newest one every rank vouched for), without keeping
   * the tensors: each is decoded into a scratch manager that is closed at once.
   */
  public CheckpointSearch<CompletedCheckpoint> searchAtMost(long bound) {
    return newest(CheckpointReader::verifyCompletely, bound);
  }

  /**
   * The newest committed checkpoint that verifies completely, tensors not kept; see {@link
   * #searchAtMost}.
   */
  public Optional<CompletedCheckpoint> newestValid() {
    return searchAtMost(Long.MAX_VALUE).found();
  }

  /** The newest committed checkpoint that verifies completely, loaded; see {@link #search}. */
  public Optional<LoadedCheckpoint> newestValid(NDManager manager) {
    return search(manager).found();
  }

  /**
   * Checks the bytes of the checkpoint of {@code step} (manifest checksum, every file's size and
   * SHA-256) without decoding tensors, for a caller that copies it; any problem is an error, never
   * a fallback.
   */
  public CompletedCheckpoint verify(long step) {
    return verifyDirectory(stepDirectory(step));
  }

  /** Loads the checkpoint of {@code step}; any problem is an error, never a fallback. */
  public LoadedCheckpoint load(long step, NDManager manager) {
    return loadDirectory(stepDirectory(step), manager);
  }

  /** The steps of committed checkpoints (at most the step {@code LATEST} names), ascending. */
  public List<Long> committedSteps() {
    OptionalLong latest = latest();
    return steps().stream().filter(s -> latest.isEmpty() || s <= latest.getAsLong()).toList();
  }

  /** The step {@code LATEST} names, if it exists and is well formed. */
  public OptionalLong latest() {
    Path pointer = root.resolve(CheckpointLayout.LATEST);
    String text;
    try {
      text = Files.readString(pointer, StandardCharsets.UTF_8).strip();
    } catch (NoSuchFileException e) {
      return OptionalLong.empty();
    } catch (IOException e) {
      throw new InvalidInputException(
          "cannot read " + pointer + ": " + CheckpointLayout.describe(e), e);
    }
    OptionalLong step = CheckpointLayout.parseStep(text);
    if (step.isEmpty()) {
      LOG.warn("Ignoring {}: it should name a step directory, holds '{}'", pointer, text);
    }
    return step;
  }

  /** Every {@code step-…} directory under the root, ascending by step, committed or not. */
  List<Long> steps() {
    if (!Files.isDirectory(root)) {
      return List.of();
    }
    try (Stream<Path> children = Files.list(root)) {
      return children
          .filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))
          .map(p -> CheckpointLayout.parseStep(p.getFileName().toString()))
          .filter(OptionalLong::isPresent)
          .map(OptionalLong::getAsLong)
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new InvalidInputException(
          "cannot list checkpoint root " + root + ": " + CheckpointLayout.describe(e), e);
    }
  }

  /**
   * The largest manifest read: a config (at most 64 Ki characters when sent to workers) and a few
   * dozen file entries are far below it; a larger file is damage, refused before it is read.
   */
  static final long MAX_MANIFEST_BYTES = 16 << 20;

  /** {@code manifest.sha256} is one line of a 64-digit hash and a file name. */
  static final long MAX_CHECKSUM_BYTES = 4 << 10;

  /** All of {@code file}, refused as a malformed manifest when it is larger than {@code max}. */
  private static byte[] readBounded(Path dir, Path file, long max) throws IOException {
    long size = Files.size(file);
    if (size > max) {
      throw new InvalidCheckpointException(
          MALFORMED_MANIFEST,
          dir,
          file.getFileName()
              + " is "
              + size
              + " bytes, more than the "
              + max
              + " a manifest may be");
    }
    return Files.readAllBytes(file);
  }

  /**
   * Checks the bytes of a checkpoint directory: the manifest against {@code manifest.sha256}, then
   * every file against the manifest; tensors are not decoded. Any problem is an error.
   */
  public static CompletedCheckpoint verifyDirectory(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new InvalidCheckpointException(MISSING_DIRECTORY, dir, "no such checkpoint directory");
    }
    Path manifestFile = dir.resolve(CheckpointLayout.MANIFEST);
    byte[] bytes;
    try {
      bytes = readBounded(dir, manifestFile, MAX_MANIFEST_BYTES);
    } catch (NoSuchFileException e) {
      throw new InvalidCheckpointException(
          MISSING_MANIFEST, dir, "manifest.json is missing (an incomplete checkpoint)", e);
    } catch (IOException e) {
      throw unreadable(manifestFile, e);
    }
    // The checksum comes before parsing: a damaged manifest must not be believed in anything, not
    // even in which format it claims to be (a flipped digit there would otherwise stop the search
    // for an older checkpoint as "another format").
    Path checksumFile = dir.resolve(CheckpointLayout.MANIFEST_CHECKSUM);
    byte[] checksum;
    try {
      checksum = readBounded(dir, checksumFile, MAX_CHECKSUM_BYTES);
    } catch (NoSuchFileException e) {
      checksum = null;
    } catch (IOException e) {
      throw unreadable(checksumFile, e);
    }
    if (checksum != null) {
      ManifestChecksum.verify(dir, bytes, checksum);
    }
    CheckpointManifest manifest;
    try {
      manifest = ManifestJson.read(bytes, manifestFile);
    } catch (InvalidCheckpointException e) {
      if (checksum == null && e.reason() == FORMAT_VERSION) {
        throw missingChecksum(dir, e.detail());
      }
      throw e;
    }
    if (checksum == null) {
      if (manifest.formatVersion() != CheckpointManifest.UNCHECKSUMMED_FORMAT) {
        throw missingChecksum(dir, "its manifest is of format " + manifest.formatVersion());
      }
      LOG.warn(
          "{}: unverified manifest: a format-{} checkpoint has no {}; the files it lists are"
              + " verified, the manifest itself cannot be",
          dir,
          CheckpointManifest.UNCHECKSUMMED_FORMAT,
          CheckpointLayout.MANIFEST_CHECKSUM);
    }
    OptionalLong named = CheckpointLayout.parseStep(dir.getFileName().toString());
    if (named.isPresent() && named.getAsLong() != manifest.step()) {
      throw new InvalidCheckpointException(
          STEP_MISMATCH,
          dir,
          "the directory is named for step "
              + named.getAsLong()
              + " but its manifest says step "
              + manifest.step());
    }
    for (Map.Entry<String, FileDigest> entry : manifest.files().entrySet()) {
      verifyFile(dir, entry.getKey(), entry.getValue());
    }
    return new CompletedCheckpoint(dir, manifest);
  }

  /**
   * Verifies a checkpoint directory, then decodes its tensor groups into {@code manager}; any
   * problem is an error and leaves nothing allocated in {@code manager}.
   */
  public static LoadedCheckpoint loadDirectory(Path dir, NDManager manager) {
    CompletedCheckpoint checkpoint = verifyDirectory(dir);
    Map<String, NDList> groups = new LinkedHashMap<>();
    try {
      for (String group : checkpoint.manifest().groups()) {
        String file = CheckpointLayout.groupFile(group);
        groups.put(group, decode(dir, file, checkpoint.manifest().files().get(file), manager));
      }
    } catch (RuntimeException e) {
      groups.values().forEach(NDList::close);
      throw e;
    }
    return new LoadedCheckpoint(dir, checkpoint.manifest(), groups);
  }

  /**
   * Verifies a checkpoint directory completely, as {@link #loadDirectory} does, decoding its
   * tensors into a scratch manager that is closed before returning.
   */
  static CompletedCheckpoint verifyCompletely(Path dir) {
    try (NDManager scratch = NDManager.newBaseManager(Device.cpu())) {
      LoadedCheckpoint loaded = loadDirectory(dir, scratch);
      return new CompletedCheckpoint(loaded.directory(), loaded.manifest());
    }
  }

  private static InvalidCheckpointException missingChecksum(Path dir, String why) {
    return new InvalidCheckpointException(
        MISSING_FILE,
        dir,
        CheckpointLayout.MANIFEST_CHECKSUM
            + " is missing and only a format-"
            + CheckpointManifest.UNCHECKSUMMED_FORMAT
            + " checkpoint may lack it ("
            + why
            + ")");
  }

  private static NDList decode(Path dir, String file, FileDigest expected, NDManager manager) {
    Path path = dir.resolve(file);
    MessageDigest digest = HashingOutput.sha256();
    NDList tensors = null;
    try (InputStream in =
        new DigestInputStream(new BufferedInputStream(Files.newInputStream(path)), digest)) {
      // The size verifyFile just checked; the reader checks every claim of the header against it
      // before allocating, and reads the stream exactly that far, so the digest covers it all.
      tensors = Safetensors.read(manager, in, expected.size(), path);
      in.transferTo(OutputStream.nullOutputStream());
    } catch (IOException e) {
      close(tensors);
      throw unreadable(path, e);
    } catch (InvalidFileException e) {
      close(tensors);
      throw new InvalidCheckpointException(MALFORMED_TENSORS, dir, file + ": " + e.problem(), e);
    } catch (RuntimeException e) {
      close(tensors);
      throw new InvalidCheckpointException(
          MALFORMED_TENSORS, dir, file + " cannot be decoded as safetensors: " + e.getMessage(), e);
    }
    String actual = HexFormat.of().formatHex(digest.digest());
    if (!actual.equals(expected.sha256())) {
      close(tensors);
      throw new InvalidCheckpointException(
          CHECKSUM_MISMATCH,
          dir,
          file
              + " changed while it was being loaded (SHA-256 "
              + actual
              + ", expected "
              + expected.sha256()
              + ")");
    }
    return tensors;
  }

  private static void close(NDList tensors) {
    if (tensors != null) {
      tensors.close();
    }
  }

  private static void verifyFile(Path dir, String file, FileDigest expected) {
    Path path = dir.resolve(file);
    long size;
    try {
      size = Files.size(path);
    } catch (NoSuchFileException e) {
      throw new InvalidCheckpointException(
          MISSING_FILE, dir, file + " is listed in the manifest but missing", e);
    } catch (IOException e) {
      throw unreadable(path, e);
    }
    if (size != expected.size()) {
      throw new InvalidCheckpointException(
          SIZE_MISMATCH,
          dir,
          file
              + " has "
              + size
              + " bytes, the manifest says "
              + expected.size()
              + (size < expected.size() ? " (truncated)" : ""));
    }
    MessageDigest digest = HashingOutput.sha256();
    try (InputStream in = Files.newInputStream(path)) {
      byte[] buffer = new byte[1 << 20];
      for (int n; (n = in.read(buffer)) > 0; ) {
        digest.update(buffer, 0, n);
      }
    } catch (IOException e) {
      throw unreadable(path, e);
    }
    String actual = HexFormat.of().formatHex(digest.digest());
    if (!actual.equals(expected.sha256())) {
      throw new InvalidCheckpointException(
          CHECKSUM_MISMATCH,
          dir,
          file
              + " fails its checksum (SHA-256 "
              + actual
              + ", expected "
              + expected.sha256()
              + ")");
    }
  }

  private static InvalidCheckpointException unreadable(Path path, IOException e) {
    return new InvalidCheckpointException(
        UNREADABLE, path, "cannot read: " + CheckpointLayout.describe(e), e);
  }

  private Path stepDirectory(long step) {
    Path dir = root.resolve(CheckpointLayout.directoryName(step));
    if (!Files.isDirectory(dir)) {
      throw new InvalidCheckpointException(
          MISSING_DIRECTORY,
          dir,
          "no checkpoint for step " + step + " (committed steps: " + committedSteps() + ")");
    }
    return dir;
  }

  private <T extends VerifiedCheckpoint> CheckpointSearch<T> newest(
      Function<Path, T> open, long bound) {
    // A live writer's retention may delete checkpoints while they are read (it keeps the last K
    // and writes a new one every few steps): when every candidate failed and the committed set
    // changed meanwhile, read the new set rather than conclude there is none.
    List<Long> before = candidatesAtMost(bound);
    for (int attempt = 0; ; attempt++) {
      CheckpointSearch<T> found = newestOf(before, open);
      if (found instanceof CheckpointSearch.Found<T> || attempt == 4) {
        return found;
      }
      List<Long> now = candidatesAtMost(bound);
      if (now.equals(before)) {
        return found;
      }
      LOG.info("Checkpoints under {} changed while being read; reading them again", root);
      before = now;
    }
  }

  private <T extends VerifiedCheckpoint> CheckpointSearch<T> newestOf(
      List<Long> candidates, Function<Path, T> open) {
    List<CheckpointSearch.Skipped> skipped = new ArrayList<>();
    for (long step : candidates) {
      Path dir = root.resolve(CheckpointLayout.directoryName(step));
      try {
        return new CheckpointSearch.Found<>(open.apply(dir), skipped);
      } catch (InvalidCheckpointException e) {
        if (e.reason() == FORMAT_VERSION) {
          throw e;
        }
        skipped.add(new CheckpointSearch.Skipped(step, e));
        LOG.warn(
            "Skipping checkpoint {} ({}): {}; trying the previous one",
            dir,
            e.reason().label(),
            e.detail());
      }
    }
    if (skipped.isEmpty()) {
      return new CheckpointSearch.NoCheckpoint<>();
    }
    LOG.warn(
        "No valid checkpoint under {}: all {} committed ones were skipped", root, skipped.size());
    return new CheckpointSearch.NoneVerifies<>(skipped);
  }

  /** Committed steps, newest first, after saying what is odd about the pointer. */
  private List<Long> candidatesAtMost(long bound) {
    return candidates().stream().filter(step -> step <= bound).toList();
  }

  private List<Long> candidates() {
    List<Long> steps = steps();
    OptionalLong latest = latest();
    List<Long> candidates = new ArrayList<>();
    if (latest.isPresent()) {
      long pointer = latest.getAsLong();
      if (!steps.contains(pointer)) {
        LOG.warn(
            "{} names {}, which does not exist; falling back to the previous checkpoint",
            root.resolve(CheckpointLayout.LATEST),
            root.resolve(CheckpointLayout.directoryName(pointer)));
      }
      for (long step : steps) {
        if (step <= pointer) {
          candidates.add(step);
        } else {
          LOG.info(
              "Ignoring {}: newer than LATEST, so its writer stopped before committing it",
              root.resolve(CheckpointLayout.directoryName(step)));
        }
      }
    } else {
      candidates.addAll(steps);
      if (!steps.isEmpty()) {
        LOG.warn("No LATEST pointer in {}; trying its checkpoint directories newest first", root);
      }
    }
    candidates.sort(Comparator.reverseOrder());
    return candidates;
  }
}
