#!/usr/bin/env python3
"""Writes the hostile-input corpus of hostile-inputs.test.

  make_hostile.py            the small files kept in this directory
  make_hostile.py --big DIR  the large ones (deep nesting, a gzip bomb),
                             generated at test time into DIR

Deterministic: rerunning leaves the files unchanged."""
import gzip
import json
import os
import struct
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "..", "..", "..", "golden", "kan_small.safetensors")


def write(path, data):
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)


def read_safetensors(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    return json.loads(b[8:8 + n]), b[8 + n:]


def safetensors(header, data, raw_header=None):
    h = raw_header if raw_header is not None else json.dumps(
        header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(h)) + h + data


def mlir_layer(in_, out, grid, order, batch="?", elt="f64"):
    """A one-layer @model with the given dimensions (no weights)."""
    cols, last = grid + 2 * order + 1, grid + order
    x = "tensor<%sx%sx%s>" % (batch, in_, elt)
    g = "tensor<%sx%sx%s>" % (in_, cols, elt)
    b = "tensor<%sx%sx%s>" % (out, in_, elt)
    c = "tensor<%sx%sx%sx%s>" % (out, in_, last, elt)
    y = "tensor<%sx%sx%s>" % (batch, out, elt)
    return ("func.func @model(%%x: %s, %%g: %s, %%b: %s, %%c: %s) -> %s {\n"
            "  %%y = kan.layer %%x, %%g, %%b, %%c order %d act silu\n"
            "      : %s, %s, %s, %s -> %s\n"
            "  return %%y : %s\n}\n" % (x, g, b, c, y, order, x, g, b, c, y, y))


def small():
    header, data = read_safetensors(GOLDEN)
    # layers.1.base_weight of shape [16777216, 0]: zero bytes, but the model
    # it implies has a 16777216-wide second layer.
    h = json.loads(json.dumps(header))
    off = h["layers.1.base_weight"]["data_offsets"][0]
    h["layers.1.base_weight"] = {"dtype": "F64", "shape": [16777216, 0],
                                 "data_offsets": [off, off]}
    # Keep the offsets contiguous: shift what followed the removed 96 bytes.
    removed = 96
    for k, v in h.items():
        if k != "__metadata__" and v["data_offsets"][0] > off:
            v["data_offsets"] = [v["data_offsets"][0] - removed,
                                 v["data_offsets"][1] - removed]
    write(os.path.join(HERE, "zero_dim.safetensors"),
          safetensors(h, data[:off] + data[off + removed:]))
    # An unknown tensor next to the model's.
    h = json.loads(json.dumps(header))
    end = len(data)
    h["layers.0.bias"] = {"dtype": "F64", "shape": [4], "data_offsets": [end, end + 32]}
    write(os.path.join(HERE, "unknown_tensor.safetensors"),
          safetensors(h, data + bytes(32)))
    # A metadata value with a byte that is not UTF-8 (0xff).
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw = raw.replace(b'"efficient-kan"', b'"efficient\xffkan"')
    write(os.path.join(HERE, "non_utf8_header.safetensors"),
          safetensors(None, data, raw_header=raw))
    # An overlong UTF-8 encoding of '/' (0xc0 0xaf) in a key.
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw = raw.replace(b'"format"', b'"form\xc0\xaf"')
    write(os.path.join(HERE, "overlong_utf8_header.safetensors"),
          safetensors(None, data, raw_header=raw))

    # A checkpoint whose metadata holds an infinite learning rate: values
    # from files get the options' checks.
    h = json.loads(json.dumps(header))
    h["__metadata__"].update({"step": "5", "lr": "inf", "seed": "0",
                              "batch": "8", "directions": "4"})
    write(os.path.join(HERE, "metadata_lr_inf.safetensors"), safetensors(h, data))

    # Modules: input width 0, an int64-sized width, order 50, and weights
    # whose element count (2^48) no allocation can hold.
    write(os.path.join(HERE, "width0.mlir"), mlir_layer(0, 3, 5, 3))
    write(os.path.join(HERE, "width_int64max.mlir"),
          mlir_layer(9223372036854775807, 3, 5, 3))
    write(os.path.join(HERE, "order50.mlir"), mlir_layer(2, 2, 5, 50))
    write(os.path.join(HERE, "huge_weights.mlir"),
          mlir_layer(16777216, 16777216, 1, 0))
    write(os.path.join(HERE, "zero_out.mlir"), mlir_layer(4, 0, 5, 3))
    write(os.path.join(HERE, "batch0.mlir"), mlir_layer(4, 3, 5, 3, batch="0"))

    # IDX labels for the 4x4 images of the bomb (4 of them).
    write(os.path.join(HERE, "bomb-labels-idx1-ubyte"),
          struct.pack(">II", 0x801, 4) + bytes([0, 1, 2, 0]))


def big(out):
    os.makedirs(out, exist_ok=True)
    depth = 10000
    # Nested array attributes, regions and types: MLIR's parser recurses
    # once per level.
    write(os.path.join(out, "nested_brackets.mlir"),
          "module attributes {a = " + "[" * depth + "]" * depth + "} {}\n")
    write(os.path.join(out, "nested_regions.mlir"),
          "func.func @f() {\n" + "scf.execute_region {\n" * depth +
          "scf.yield\n}\n" * depth + "return\n}\n")
    # Types recurse with a smaller frame: 50,000 levels.
    write(os.path.join(out, "nested_tuple.mlir"),
          "func.func @f(%a: " + "tuple<" * (5 * depth) + "f64" + ">" * (5 * depth) +
          ") {\n  return\n}\n")
    # Gzip bomb: an IDX header declaring 4 images of 4x4 bytes, then 512 MiB
    # of zeros (512 gzip members of 1 MiB each; about 0.5 MB on disk).
    member = gzip.compress(bytes(1 << 20), mtime=0)
    with open(os.path.join(out, "bomb-images-idx3-ubyte.gz"), "wb") as f:
        f.write(gzip.compress(struct.pack(">IIII", 0x803, 4, 4, 4) + bytes(64),
                              mtime=0))
        for _ in range(512):
            f.write(member)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--big":
        big(sys.argv[2])
    else:
        small()
