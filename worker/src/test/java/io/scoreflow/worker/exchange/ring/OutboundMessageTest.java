package io.scoreflow.worker.exchange.ring;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.scoreflow.proto.v1.Chunk;
import io.scoreflow.proto.v1.Fence;
import io.scoreflow.proto.v1.Phase;
import io.scoreflow.proto.v1.RingMessage;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** A drained chunk is byte for byte the protobuf encoding of the same message with its payload. */
class OutboundMessageTest {

  @ParameterizedTest(name = "{0} elements, {1}, staging {2} bytes")
  @CsvSource({
    "0, FP32, 64",
    "1, FP32, 64",
    "1000, FP32, 64",
    "1000, BF16, 60",
    "40000, FP32, 65536",
    "40001, BF16, 65536"
  })
  void drainsTheOrdinaryEncoding(int elements, WireEncoding encoding, int stagingBytes)
      throws Exception {
    float[] source = new float[elements + 7];
    Random random = new Random(elements);
    for (int i = 0; i < source.length; i++) {
      source[i] = (float) random.nextGaussian();
    }
    Chunk header =
        Chunk.newBuilder()
            .setFence(Fence.newBuilder().setJob("job").setGeneration(3).setStep(12))
            .setPhase(Phase.ALL_GATHER)
            .setSegment(2)
            .setChunk(5)
            .setOffset(7)
            .setElements(elements)
            .setEncoding(encoding.proto())
            .build();
    OutboundMessage out =
        OutboundMessage.chunk(
            header,
            source,
            7,
            elements,
            encoding,
            new byte[stagingBytes],
            new short[stagingBytes / 2]);

    byte[] payload = new byte[elements * encoding.bytesPerElement()];
    PayloadCodec.encode(source, 7, elements, encoding, payload, new short[elements]);
    byte[] expected =
        RingMessage.newBuilder()
            .setChunk(header.toBuilder().setPayload(ByteString.copyFrom(payload)))
            .build()
            .toByteArray();

    InputStream drained = out.stream();
    assertEquals(expected.length, drained.available());
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    assertEquals(expected.length, ((io.grpc.Drainable) drained).drainTo(sink));
    assertArrayEquals(expected, sink.toByteArray());
    // Transports that read rather than drain (in-process) get the same bytes.
    assertArrayEquals(expected, out.stream().readAllBytes());
    assertEquals(RingMessage.parseFrom(expected), out.toMessage());
  }
}
