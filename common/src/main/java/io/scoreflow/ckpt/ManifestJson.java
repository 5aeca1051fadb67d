package io.scoreflow.ckpt;

import static io.scoreflow.ckpt.InvalidCheckpointException.Reason.FORMAT_VERSION;
import static io.scoreflow.ckpt.InvalidCheckpointException.Reason.MALFORMED_MANIFEST;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.scoreflow.data.DataCursor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code manifest.json} to and from {@link CheckpointManifest}. Written field by field (not by
 * reflection) so the file's layout is fixed here, and read field by field so a damaged manifest
 * yields a message naming the field. The format version is read before anything else: a manifest of
 * another format than 1 or 2 is refused with that reason alone, whatever else it holds. Formats 1
 * and 2 have the same layout; format 2 checkpoints also hold {@code manifest.sha256} (see {@link
 * ManifestChecksum}), which the reader checks before it parses these bytes at all.
 *
 * <pre>{@code
 * {
 *   "format" : 2,
 *   "jobId" : "cifar10-vp-poly",
 *   "step" : 1200,
 *   "generation" : 3,
 *   "createdAt" : "2025-01-31T12:00:00Z",
 *   "dataCursor" : { "epoch" : 2, "position" : 4096 },
 *   "rng" : { "seed" : 42, "state" : { "torch.offset" : "1234" } },
 *   "config" : "scoreflow { ... }",
 *   "files" : { "model.safetensors" : { "sha256" : "…", "size" : 123 } }
 * }
 * }</pre>
 */
final class ManifestJson {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private ManifestJson() {}

  static byte[] write(CheckpointManifest m) {
    ObjectNode root = JSON.createObjectNode();
    root.put("format", m.formatVersion());
    root.put("jobId", m.jobId());
    root.put("step", m.step());
    root.put("generation", m.generation());
    root.put("createdAt", m.createdAt().toString());
    ObjectNode cursor = root.putObject("dataCursor");
    cursor.put("epoch", m.dataCursor().epoch());
    cursor.put("position", m.dataCursor().position());
    ObjectNode rng = root.putObject("rng");
    rng.put("seed", m.rng().seed());
    ObjectNode state = rng.putObject("state");
    m.rng().state().forEach(state::put);
    root.put("config", m.config());
    ObjectNode files = root.putObject("files");
    m.files()
        .forEach(
            (name, digest) -> {
              ObjectNode entry = files.putObject(name);
              entry.put("sha256", digest.sha256());
              entry.put("size", digest.size());
            });
    try {
      return (JSON.writeValueAsString(root) + "\n").getBytes(StandardCharsets.UTF_8);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a JSON tree always serialises", e);
    }
  }

  /**
   * Parses a manifest.
   *
   * @param file where the bytes came from, for messages
   */
  static CheckpointManifest read(byte[] bytes, Path file) {
    JsonNode root;
    try {
      root = JSON.readTree(bytes);
    } catch (JsonProcessingException e) {
      throw malformed(file, "not valid JSON (" + e.getOriginalMessage() + ")", e);
    } catch (java.io.IOException e) {
      throw malformed(file, "not valid JSON (" + e.getMessage() + ")", e);
    }
    if (root == null || !root.isObject()) {
      throw malformed(file, "not a JSON object", null);
    }
    JsonNode format = root.get("format");
    if (format == null || !format.isIntegralNumber()) {
      throw malformed(file, "field 'format' is missing or not an integer", null);
    }
    if (format.asLong() != CheckpointManifest.FORMAT_VERSION
        && format.asLong() != CheckpointManifest.UNCHECKSUMMED_FORMAT) {
      throw new InvalidCheckpointException(
          FORMAT_VERSION,
          file,
          "expected checkpoint format "
              + CheckpointManifest.UNCHECKSUMMED_FORMAT
              + " or "
              + CheckpointManifest.FORMAT_VERSION
              + ", got "
              + format.asText());
    }
    try {
      JsonNode cursor = object(root, "dataCursor", file);
      JsonNode rng = object(root, "rng", file);
      Map<String, String> state = new TreeMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = object(rng, "state", file).fields();
          it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!e.getValue().isTextual()) {
          throw malformed(file, "rng.state." + e.getKey() + " is not a string", null);
        }
        state.put(e.getKey(), e.getValue().asText());
      }
      Map<String, FileDigest> files = new LinkedHashMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = object(root, "files", file).fields();
          it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        String name = e.getKey();
        if (name.isEmpty() || name.contains("/") || name.contains("\\") || name.startsWith(".")) {
          throw malformed(file, "files lists an invalid file name '" + name + "'", null);
        }
        JsonNode entry = e.getValue();
        files.put(
            name,
            new FileDigest(
                text(entry, "sha256", file), integer(entry, "size", file, "files." + name)));
      }
      return new CheckpointManifest(
          format.asInt(),
          text(root, "jobId", file),
          integer(root, "step", file, "step"),
          integer(root, "generation", file, "generation"),
          Instant.parse(text(root, "createdAt", file)),
          text(root, "config", file),
          new DataCursor(
              integer(cursor, "epoch", file, "dataCursor"),
              Math.toIntExact(integer(cursor, "position", file, "dataCursor"))),
          new RngState(integer(rng, "seed", file, "rng"), state),
          files);
    } catch (IllegalArgumentException | DateTimeParseException e) {
      if (e instanceof InvalidCheckpointException ice) {
        throw ice;
      }
      throw malformed(file, e.getMessage(), e);
    }
  }

  private static JsonNode object(JsonNode parent, String field, Path file) {
    JsonNode node = parent.get(field);
    if (node == null || !node.isObject()) {
      throw malformed(file, "field '" + field + "' is missing or not an object", null);
    }
    return node;
  }

  private static String text(JsonNode parent, String field, Path file) {
    JsonNode node = parent.get(field);
    if (node == null || !node.isTextual()) {
      throw malformed(file, "field '" + field + "' is missing or not a string", null);
    }
    return node.asText();
  }

  private static long integer(JsonNode parent, String field, Path file, String where) {
    JsonNode node = parent.get(field);
    if (node == null || !node.canConvertToLong() || !node.isIntegralNumber()) {
      String path = where.equals(field) ? field : where + "." + field;
      throw malformed(file, "field '" + path + "' is missing or not an integer", null);
    }
    return node.asLong();
  }

  private static InvalidCheckpointException malformed(Path file, String what, Throwable cause) {
    return new InvalidCheckpointException(
        MALFORMED_MANIFEST, file, "malformed manifest: " + what, cause);
  }
}
