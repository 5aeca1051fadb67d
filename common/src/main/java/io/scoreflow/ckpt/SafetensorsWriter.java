package io.scoreflow.ckpt;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Writes float32 tensors from the heap in the safetensors format: an 8-byte little-endian header
 * length, a JSON header ({@code name -> {dtype, shape, data_offsets}}), then the data, little
 * endian. Written here rather than through {@code NDList.encode} so the writer thread never touches
 * the engine or native memory, streams from the heap arrays without a second full copy, and keeps
 * the caller's tensor order. Files are read back by {@link io.scoreflow.files.Safetensors}.
 */
final class SafetensorsWriter {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int CHUNK_FLOATS = 1 << 18; // 1 MiB buffer

  private SafetensorsWriter() {}

  static void write(List<HostTensor> tensors, HashingOutput out) throws IOException {
    byte[] header = header(tensors);
    ByteBuffer prefix = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
    prefix.putLong(header.length).put(header).flip();
    out.write(prefix);

    ByteBuffer chunk = ByteBuffer.allocate(CHUNK_FLOATS * Float.BYTES);
    chunk.order(ByteOrder.LITTLE_ENDIAN);
    for (HostTensor tensor : tensors) {
      float[] data = tensor.data();
      for (int from = 0; from < data.length; from += CHUNK_FLOATS) {
        int n = Math.min(CHUNK_FLOATS, data.length - from);
        chunk.clear();
        chunk.asFloatBuffer().put(data, from, n);
        chunk.limit(n * Float.BYTES);
        out.write(chunk);
      }
    }
  }

  /** The JSON header, padded with spaces to a multiple of 8 bytes as the format recommends. */
  static byte[] header(List<HostTensor> tensors) {
    ObjectNode root = JSON.createObjectNode();
    long offset = 0;
    for (HostTensor tensor : tensors) {
      ObjectNode entry = root.putObject(tensor.name());
      entry.put("dtype", "F32");
      ArrayNode shape = entry.putArray("shape");
      for (long dim : tensor.shape()) {
        shape.add(dim);
      }
      long end = offset + tensor.byteSize();
      entry.putArray("data_offsets").add(offset).add(end);
      offset = end;
    }
    root.putObject("__metadata__").put("format", "pt");
    byte[] json = root.toString().getBytes(StandardCharsets.UTF_8);
    int padded = (json.length + 7) / 8 * 8;
    byte[] header = new byte[padded];
    System.arraycopy(json, 0, header, 0, json.length);
    java.util.Arrays.fill(header, json.length, padded, (byte) ' ');
    return header;
  }
}
