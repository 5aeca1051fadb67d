package io.scoreflow.worker.exchange.ring;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.scoreflow.proto.v1.Chunk;
import io.scoreflow.proto.v1.RingMessage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;

/**
 * A {@link RingMessage} to send. A chunk's payload is not built as a {@code ByteString}: it is
 * encoded from the float buffer straight into gRPC's output buffers, through a small staging array
 * that stays in cache, when gRPC drains the message (inside {@code sendMessage}). The bytes on the
 * wire are those of the ordinary message: the chunk's other fields, then field 8 ({@code payload})
 * last, which protobuf parsers accept like any field order.
 */
final class OutboundMessage {

  private static final int CHUNK_FIELD = RingMessage.CHUNK_FIELD_NUMBER;
  private static final int PAYLOAD_FIELD = Chunk.PAYLOAD_FIELD_NUMBER;

  private final RingMessage message;
  private final float[] source;
  private final int offset;
  private final int elements;
  private final WireEncoding encoding;
  private final byte[] staging;
  private final short[] halves;

  private OutboundMessage(
      RingMessage message,
      float[] source,
      int offset,
      int elements,
      WireEncoding encoding,
      byte[] staging,
      short[] halves) {
    this.message = message;
    this.source = source;
    this.offset = offset;
    this.elements = elements;
    this.encoding = encoding;
    this.staging = staging;
    this.halves = halves;
  }

  /** A message sent as it is (the hello). */
  static OutboundMessage of(RingMessage message) {
    return new OutboundMessage(message, null, 0, 0, null, null, null);
  }

  /**
   * A chunk whose payload is {@code source[offset, offset + elements)} encoded as {@code encoding};
   * {@code header} carries every other field. {@code source} must not change until the message has
   * been drained, and {@code staging} (a multiple of 4 bytes) must not be shared with a concurrent
   * drain.
   */
  static OutboundMessage chunk(
      Chunk header,
      float[] source,
      int offset,
      int elements,
      WireEncoding encoding,
      byte[] staging,
      short[] halves) {
    RingMessage m = RingMessage.newBuilder().setChunk(header).build();
    return new OutboundMessage(m, source, offset, elements, encoding, staging, halves);
  }

  InputStream stream() {
    return new Stream();
  }

  /** The whole message as protobuf (for transports that read instead of draining). */
  RingMessage toMessage() {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream(new Stream().available());
      new Stream().drainTo(out);
      return RingMessage.parseFrom(out.toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private final class Stream extends InputStream implements Drainable, KnownLength {
    private final byte[] prefix;
    private final int payloadBytes;
    private InputStream materialized;
    private boolean drained;

    Stream() {
      if (source == null || elements == 0) {
        // proto3 leaves an empty payload out altogether.
        prefix = message.toByteArray();
        payloadBytes = 0;
        return;
      }
      payloadBytes = elements * encoding.bytesPerElement();
      byte[] header = message.getChunk().toByteArray();
      int chunkLength =
          header.length
              + CodedOutputStream.computeTagSize(PAYLOAD_FIELD)
              + CodedOutputStream.computeUInt32SizeNoTag(payloadBytes)
              + payloadBytes;
      prefix =
          new byte
              [CodedOutputStream.computeTagSize(CHUNK_FIELD)
                  + CodedOutputStream.computeUInt32SizeNoTag(chunkLength)
                  + chunkLength
                  - payloadBytes];
      CodedOutputStream out = CodedOutputStream.newInstance(prefix);
      try {
        out.writeTag(CHUNK_FIELD, WireFormat.WIRETYPE_LENGTH_DELIMITED);
        out.writeUInt32NoTag(chunkLength);
        out.writeRawBytes(header);
        out.writeTag(PAYLOAD_FIELD, WireFormat.WIRETYPE_LENGTH_DELIMITED);
        out.writeUInt32NoTag(payloadBytes);
        out.checkNoSpaceLeft();
      } catch (IOException e) {
        throw new IllegalStateException("miscomputed the size of a chunk header", e);
      }
    }

    @Override
    public int drainTo(OutputStream target) throws IOException {
      if (drained || materialized != null) {
        throw new IllegalStateException("an outbound message is drained once");
      }
      drained = true;
      target.write(prefix);
      int perBatch = staging == null ? 0 : staging.length / 4;
      for (int done = 0; done < elements; ) {
        int n = Math.min(perBatch, elements - done);
        int bytes = PayloadCodec.encode(source, offset + done, n, encoding, staging, halves);
        target.write(staging, 0, bytes);
        done += n;
      }
      return prefix.length + payloadBytes;
    }

    @Override
    public int available() throws IOException {
      if (materialized != null) {
        return materialized.available();
      }
      return drained ? 0 : prefix.length + payloadBytes;
    }

    @Override
    public int read() throws IOException {
      return materialize().read();
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      return materialize().read(b, off, len);
    }

    private InputStream materialize() throws IOException {
      if (materialized == null) {
        if (drained) {
          throw new IllegalStateException("an outbound message is drained once");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(available());
        drainTo(out);
        materialized = new java.io.ByteArrayInputStream(out.toByteArray());
      }
      return materialized;
    }
  }
}
