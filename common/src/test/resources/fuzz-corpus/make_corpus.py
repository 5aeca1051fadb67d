#!/usr/bin/env python3
"""Writes the seed corpus of the parser fuzz tests: small valid files (ok-*) that must load and
known-bad ones (bad-*) that must be refused with one clear error. Valid npz files come from numpy
itself, the other formats from their specifications, so the readers are checked against writers
that are not ours. The output is committed, so this runs only to change it."""
import gzip
import io
import json
import os
import struct
import zlib

import numpy as np


HERE = os.path.dirname(os.path.abspath(__file__))


def put(folder, name, data):
    folder = os.path.join(HERE, folder)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


# safetensors ---------------------------------------------------------------------------------

def safetensors(tensors, metadata=None, pad=True, length=None):
    """tensors: list of (name, dtype, shape, bytes); data in list order, contiguous."""
    header, data, at = {}, b"", 0
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [at, at + len(raw)]}
        data += raw
        at += len(raw)
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text) if length is None else length) + text + data


def raw_header(text, data=b""):
    return struct.pack("<Q", len(text)) + text + data


S = "safetensors"
f32 = np.arange(6, dtype="<f4").tobytes()
put(S, "ok-f32-2x3.safetensors",
    safetensors([("w", "F32", [2, 3], f32)], metadata={"format": "pt"}))
put(S, "ok-dtypes.safetensors", safetensors([
    ("f64", "F64", [2], np.array([1.5, -2], "<f8").tobytes()),
    ("f16", "F16", [3], np.array([1, 2, 3], "<f2").tobytes()),
    ("bf16", "BF16", [1], b"\x80\x3f"),
    ("i64", "I64", [], np.array(50000, "<i8").tobytes()),
    ("i32", "I32", [2, 1], np.array([[-1], [7]], "<i4").tobytes()),
    ("i8", "I8", [1], b"\xff"),
    ("u8", "U8", [4], b"\x00\x01\xfe\xff"),
    ("bool", "BOOL", [2], b"\x00\x01"),
    ("empty", "F32", [0, 5], b""),
]))
put(S, "ok-no-tensors.safetensors", raw_header(b"{}      "))
# The reported cases: a length of 2^63 - 1, and a 109-byte file claiming a 2 GiB header.
valid = safetensors([("w", "F32", [2, 3], f32)])
put(S, "bad-header-length-ff7f.safetensors", b"\xff" * 7 + b"\x7f" + valid[8:])
claim = safetensors([("x", "F32", [1], b"\0\0\0\0")], length=1 << 31)
put(S, "bad-109-bytes-claim-2gib-header.safetensors", (claim + b" " * 109)[:109])
put(S, "bad-header-length-all-ff.safetensors", b"\xff" * 8 + valid[8:])
put(S, "bad-offsets-claim-2gib.safetensors",
    raw_header(b'{"x":{"dtype":"U8","shape":[2147483000],"data_offsets":[0,2147483000]}}', b"abc"))
put(S, "bad-shape-product-overflows.safetensors", raw_header(
    b'{"x":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,0]}}'))
put(S, "bad-overlapping-tensors.safetensors", raw_header(
    b'{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},'
    b'"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}', b"123456"))
put(S, "bad-gap-between-tensors.safetensors", raw_header(
    b'{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},'
    b'"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}', b"123456"))
put(S, "bad-trailing-bytes.safetensors", valid + b"extra")
put(S, "bad-truncated-data.safetensors", valid[:-3])
put(S, "bad-unknown-dtype.safetensors", raw_header(
    b'{"x":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}', b"\0"))
put(S, "bad-duplicate-name.safetensors", raw_header(
    b'{"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},'
    b'"x":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}', b"\0\0"))
put(S, "bad-deep-nesting.safetensors", raw_header(b'{"x":{"shape":' + b"[" * 500 + b"]" * 500 + b"}}"))
put(S, "bad-metadata-not-strings.safetensors", raw_header(b'{"__metadata__":{"epoch":3}}'))
put(S, "bad-negative-dimension.safetensors", raw_header(
    b'{"x":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}'))
put(S, "bad-bool-byte.safetensors", raw_header(
    b'{"x":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]}}', b"\x05"))
put(S, "bad-not-json.safetensors", raw_header(b'{"x": nope}   '))
put(S, "bad-five-bytes.safetensors", b"\x10\0\0\0\0")

# npz -----------------------------------------------------------------------------------------

N = "npz"


def npz(compressed=False, **arrays):
    out = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(out, **arrays)
    return out.getvalue()


x = np.arange(12, dtype="<f4").reshape(3, 4) / 8
put(N, "ok-savez.npz", npz(samples=x, scalar=np.float32(2.5)))
put(N, "ok-savez-compressed.npz", npz(True, samples=x, empty=np.zeros((0, 3), "<f4")))


def npy(header_dict, data, version=(1, 0), length=None):
    text = header_dict.encode("latin1")
    text += b" " * (-(len(text) + 11) % 64) + b"\n"
    n = len(text) if length is None else length
    size = struct.pack("<H", n) if version[0] == 1 else struct.pack("<I", n)
    return b"\x93NUMPY" + bytes(version) + size + text + data


def zip_one(name, member, compressed=False):
    import zipfile
    out = io.BytesIO()
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(info, member)
    return out.getvalue()


put(N, "bad-npy-header-claims-4gib.npz", zip_one("x.npy", npy(
    "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", b"\0" * 8, (2, 0), 0xFFFFFFF0)))
put(N, "bad-shape-claims-2g-floats.npz", zip_one("x.npy", npy(
    "{'descr': '<f4', 'fortran_order': False, 'shape': (536870912,), }", b"\0" * 8), True))
put(N, "bad-shape-product-overflows.npz", zip_one("x.npy", npy(
    "{'descr': '<f4', 'fortran_order': False, 'shape': (2147483647, 2147483647, 2147483647, 8), }",
    b"")))
put(N, "bad-float64.npz", npz(x=np.zeros(2)))
put(N, "bad-not-npy.npz", zip_one("notes.txt", b"hello"))
put(N, "bad-truncated-zip.npz", npz(samples=x)[:100])
put(N, "bad-short-data.npz", zip_one("x.npy", npy(
    "{'descr': '<f4', 'fortran_order': False, 'shape': (100,), }", b"\0" * 12)))

# IDX -----------------------------------------------------------------------------------------

I = "idx"
pixels = bytes(range(2 * 3 * 4))
idx = struct.pack(">IIII", 2051, 2, 3, 4) + pixels
put(I, "ok-2x3x4-idx3-ubyte", idx)
put(I, "ok-2x3x4-idx3-ubyte.gz", gzip.compress(idx, mtime=0))
put(I, "bad-claims-1000x1024x1024.gz", gzip.compress(struct.pack(">IIII", 2051, 1000, 1024, 1024)
                                                      + pixels, mtime=0))
put(I, "bad-dimensions-overflow-int64", struct.pack(">IIII", 2051, 0x7FFFFFFF, 0x7FFFFFFF,
                                                    0x7FFFFFFF) + pixels)
put(I, "bad-label-file", struct.pack(">II", 2049, 2) + b"\x01\x02")
put(I, "bad-truncated.gz", gzip.compress(idx, mtime=0)[:30])
put(I, "bad-short-pixels", idx[:-5])
put(I, "bad-zero-images", struct.pack(">IIII", 2051, 0, 28, 28))

# PNG -----------------------------------------------------------------------------------------


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width, height, rows, color=0, depth=8):
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    raw = b"".join(b"\0" + r for r in rows)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + \
        chunk(b"IEND", b"")


P = "png"
put(P, "ok-gray-4x3.png", png(4, 3, [bytes([0, 85, 170, 255])] * 3))
put(P, "ok-rgb-2x2.png", png(2, 2, [bytes([255, 0, 0, 0, 255, 0])] * 2, color=2))
put(P, "bad-claims-100000x100000.png", png(100000, 100000, [b"\0"]))
put(P, "bad-claims-zero-width.png", png(0, 3, []))
put(P, "bad-truncated.png", png(4, 3, [bytes(4)] * 3)[:40])
put(P, "bad-jpeg-named-png.png", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\0" * 20)
put(P, "bad-ten-bytes.png", b"\x89PNG\r\n\x1a\n\0\0")

# CIFAR-10 ------------------------------------------------------------------------------------

C = "cifar10"
record = bytes([3]) + bytes(i % 256 for i in range(3072))
put(C, "ok-one-record.bin", record)
put(C, "bad-label-10.bin", bytes([10]) + record[1:])
put(C, "bad-partial-record.bin", record[:100])
put(C, "bad-cifar100-record.bin", bytes([1, 2]) + record[1:])

# feature statistics (eval fd) ------------------------------------------------------------------

F = "stats"
put(F, "ok-mu-sigma.safetensors", safetensors([
    ("mu", "F64", [2], np.array([0.5, -1], "<f8").tobytes()),
    ("sigma", "F64", [2, 2], np.array([[2, 0.5], [0.5, 1]], "<f8").tobytes()),
    ("samples", "I64", [], np.array(100, "<i8").tobytes())]))
put(F, "ok-features.safetensors", safetensors([
    ("features", "F32", [3, 2], np.array([[0, 1], [2, 3], [4, 7]], "<f4").tobytes())]))
put(F, "bad-sigma-not-square.safetensors", safetensors([
    ("mu", "F64", [2], np.zeros(2, "<f8").tobytes()),
    ("sigma", "F64", [2, 3], np.zeros(6, "<f8").tobytes())]))
put(F, "bad-sigma-nan.safetensors", safetensors([
    ("mu", "F64", [1], np.zeros(1, "<f8").tobytes()),
    ("sigma", "F64", [1, 1], np.array([np.nan], "<f8").tobytes())]))
put(F, "bad-sigma-asymmetric.safetensors", safetensors([
    ("mu", "F64", [2], np.zeros(2, "<f8").tobytes()),
    ("sigma", "F64", [2, 2], np.array([[1, 0.9], [0, 1]], "<f8").tobytes())]))
put(F, "bad-mu-claims-more-than-file.safetensors", raw_header(
    b'{"mu":{"dtype":"F64","shape":[100000000],"data_offsets":[0,800000000]}}', b"\0" * 16))
put(F, "bad-npz-given-as-stats.safetensors", npz(mu=np.zeros(2, "<f4")))
