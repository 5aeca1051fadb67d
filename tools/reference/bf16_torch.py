#!/usr/bin/env python3
"""Independent reference for scoreflow's bfloat16 rounding (io.scoreflow.worker.exchange.ring.Bf16):
PyTorch's float32 -> bfloat16 conversion (round to nearest, ties to even), element by element.

    python3 tools/reference/bf16_torch.py > worker/src/test/resources/reference/bf16_torch.json

The inputs are float32 bit patterns: the special values (zeros, infinities, NaNs, the largest and
smallest normal and subnormal numbers), every kind of tie (the low 16 bits exactly 0x8000 with the
kept bit even and odd, up to a carry into the exponent and into infinity), the neighbours of ties,
and pseudo-random patterns over the whole range (a fixed LCG, so the file is reproducible). The
output is the bfloat16 bit pattern PyTorch produces; for NaN inputs, only "is a NaN" is compared
(payloads are implementation-defined), which the file marks with "nan": true.
"""
import json
import struct

import torch


def patterns():
    special = [
        0x00000000, 0x80000000,  # +-0
        0x7F800000, 0xFF800000,  # +-inf
        0x7FC00000, 0xFFC00000, 0x7F800001, 0x7FFFFFFF, 0xFF800001,  # NaNs (quiet, signalling)
        0x7F7FFFFF, 0xFF7FFFFF,  # +-max finite: rounds to inf
        0x7F7F7FFF, 0x7F7F8000, 0x7F7F8001,  # around the last tie below inf
        0x00800000, 0x80800000,  # smallest normal
        0x00000001, 0x007FFFFF, 0x00008000, 0x00018000, 0x00007FFF,  # subnormals, subnormal ties
        0x3F800000, 0x3F808000, 0x3F818000, 0x3F807FFF, 0x3F808001,  # 1.0 and its ties
        0x3FFF8000, 0x3FFFFFFF, 0xBFFF8000,  # ties that carry into the exponent
    ]
    out = list(special)
    x = 0x2545F491
    for _ in range(1000):
        x = (x * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
        bits = (x >> 32) & 0xFFFFFFFF
        out.append(bits)
        # The same high half with the low half an exact tie, and its neighbours.
        out.append((bits & 0xFFFF0000) | 0x8000)
        out.append((bits & 0xFFFF0000) | 0x7FFF)
        out.append((bits & 0xFFFF0000) | 0x8001)
    return out


def main():
    bits = patterns()
    # Built from the bits themselves: a detour through Python floats would quiet signalling NaNs.
    signed = [struct.unpack("<i", struct.pack("<I", b))[0] for b in bits]
    floats = torch.tensor(signed, dtype=torch.int32).view(torch.float32)
    bf = floats.to(torch.bfloat16)
    out_bits = [b & 0xFFFF for b in bf.view(torch.int16).tolist()]
    cases = []
    for b, f, o in zip(bits, floats.tolist(), out_bits):
        case = {"f32": "%08x" % b, "bf16": "%04x" % o}
        if f != f:
            case["nan"] = True
        cases.append(case)
    # One case per line: a diff of the file shows which values changed.
    lines = ",\n".join(json.dumps(c, separators=(",", ":")) for c in cases)
    print('{"torch":%s,"cases":[\n%s\n]}' % (json.dumps(torch.__version__), lines))


if __name__ == "__main__":
    main()
