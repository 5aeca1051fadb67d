package io.scoreflow.worker.exchange.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

/**
 * The bf16 rounding of the wire, element by element against PyTorch's float32 → bfloat16 conversion
 * ({@code tools/reference/bf16_torch.py}, stored in {@code reference/bf16_torch.json}): special
 * values, every kind of tie, their neighbours and pseudo-random patterns over the whole range.
 */
class Bf16Test {

  @Test
  void roundsEveryReferencePatternAsPyTorchDoes() throws IOException {
    JsonNode cases;
    try (InputStream in = Bf16Test.class.getResourceAsStream("/reference/bf16_torch.json")) {
      cases = new ObjectMapper().readTree(in).get("cases");
    }
    assertTrue(cases.size() > 4000, "the reference has " + cases.size() + " cases");
    int ties = 0;
    for (JsonNode c : cases) {
      int bits = Integer.parseUnsignedInt(c.get("f32").asText(), 16);
      int expected = Integer.parseInt(c.get("bf16").asText(), 16);
      float f = Float.intBitsToFloat(bits);
      short got = Bf16.fromFloat(f);
      String what = String.format("f32 %08x (%s)", bits, f);
      if (c.has("nan")) {
        // NaN payloads are the implementation's; a NaN must stay a NaN (and not become infinite).
        assertTrue(Float.isNaN(Bf16.toFloat(got)), what + " gave " + Integer.toHexString(got));
      } else {
        assertEquals(expected, got & 0xffff, what);
        assertEquals(Float.intBitsToFloat(expected << 16), Bf16.round(f), 0f, what);
      }
      ties += (bits & 0xffff) == 0x8000 ? 1 : 0;
    }
    assertTrue(ties > 1000, "ties covered: " + ties);
  }
}
