#!/usr/bin/env python3
"""Writes the small data sets and malformed files of the kan-train/kan-run
tests. Deterministic: rerunning leaves the files unchanged."""
import gzip
import math
import os
import random
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


def blobs(n, seed):
    # Three Gaussian blobs in 8 dimensions, features in about [-1, 1].
    crng = random.Random(0)
    centres = [[crng.uniform(-0.6, 0.6) for _ in range(8)] for _ in range(3)]
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        c = i % 3
        rows.append((c, [centres[c][j] + rng.gauss(0, 0.25) for j in range(8)]))
    return rows


def write_csv(name, rows, header=False):
    with open(path(name), "w") as f:
        if header:
            f.write("label," + ",".join("f%d" % j for j in range(8)) + "\n")
        for c, x in rows:
            f.write("%d," % c + ",".join("%.6f" % v for v in x) + "\n")


train = blobs(200, 1)
test = blobs(60, 2)
write_csv("blobs_train.csv", train)
write_csv("blobs_test.csv", test)
write_csv("blobs_header.csv", test, header=True)

# Bad CSVs: a NaN feature, a label out of range, a ragged row, 5 features.
bad = [list(r) for r in test[:4]]
with open(path("nan.csv"), "w") as f:
    f.write("0,0.1,0.2,nan,0.4,0.5,0.6,0.7,0.8\n1,0,0,0,0,0,0,0,0\n")
with open(path("label7.csv"), "w") as f:
    f.write("0,0,0,0,0,0,0,0,0\n7,0,0,0,0,0,0,0,0\n")
with open(path("ragged.csv"), "w") as f:
    f.write("0,0,0,0,0,0,0,0,0\n1,0,0,0\n")
with open(path("five_features.csv"), "w") as f:
    f.write("0,0.1,0.2,0.3,0.4,0.5\n1,0.5,0.4,0.3,0.2,0.1\n")
with open(path("not_numbers.csv"), "w") as f:
    f.write("0,0,0,zero,0,0,0,0,0\n")


# IDX: 4x4 images of the blobs (16 pixels), labels; gz and plain.
def idx_images(rows):
    data = bytearray(struct.pack(">IIII", 0x803, len(rows), 4, 4))
    for _, x in rows:
        px = [min(255, max(0, int(round((v + 1) * 127.5)))) for v in x + x]
        data += bytes(px)
    return bytes(data)


def idx_labels(rows):
    return struct.pack(">II", 0x801, len(rows)) + bytes(c for c, _ in rows)


with gzip.GzipFile(path("blobs-images-idx3-ubyte.gz"), "wb", mtime=0) as f:
    f.write(idx_images(train))
with open(path("blobs-labels-idx1-ubyte"), "wb") as f:
    f.write(idx_labels(train))
# Truncated images: the header promises 200 images, the file holds 10.
with open(path("truncated-images-idx3-ubyte"), "wb") as f:
    f.write(idx_images(train)[: 16 + 10 * 16])
# Labels file with the wrong magic.
with open(path("badmagic-labels-idx1-ubyte"), "wb") as f:
    f.write(struct.pack(">II", 0x803, 200) + bytes(200))

# NPY inputs for kan-run: wrong width (4 columns for a 5-input model), a NaN,
# a truncated file, a 1-D array.
def npy(name, shape, values, descr="<f8", cut=None):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, "".join("%d, " % d for d in shape) if len(shape) != 1 else "%d," % shape[0])
    pad = 64 - (10 + len(header) + 1) % 64
    header = header + " " * pad + "\n"
    body = b"".join(struct.pack("<d", v) for v in values)
    data = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + body
    if cut is not None:
        data = data[:cut]
    with open(path(name), "wb") as f:
        f.write(data)


npy("x_width4.npy", (3, 4), [0.1 * i for i in range(12)])
npy("x_nan.npy", (2, 5), [0.0, 0.1, float("nan"), 0.3, 0.4] + [0.0] * 5)
npy("x_truncated.npy", (3, 5), [0.0] * 15, cut=128 + 40)
npy("x_1d.npy", (5,), [0.0] * 5)
npy("x_ok.npy", (2, 5), [0.1 * i - 0.5 for i in range(10)])
with open(path("x_garbage.npy"), "wb") as f:
    f.write(b"this is not an npy file\n")

# Safetensors: header length larger than the file; JSON that is not JSON;
# a model with a missing spline_weight.
with open(path("bad_header.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", 1 << 20) + b"{}")
with open(path("bad_json.safetensors"), "wb") as f:
    j = b'{"a": {"dtype": "F64", "shape": [1], "data_offsets": [0, 8]'
    j += b" " * ((8 - len(j) % 8) % 8)
    f.write(struct.pack("<Q", len(j)) + j + bytes(8))


def safetensors(name, tensors):
    header = {}
    off = 0
    body = b""
    for n, shape, vals in tensors:
        b = b"".join(struct.pack("<d", v) for v in vals)
        header[n] = '{"dtype":"F64","shape":[%s],"data_offsets":[%d,%d]}' % (
            ",".join(str(d) for d in shape), off, off + len(b))
        off += len(b)
        body += b
    j = "{" + ",".join('"%s":%s' % (k, v) for k, v in header.items()) + "}"
    j += " " * ((8 - len(j) % 8) % 8)
    with open(path(name), "wb") as f:
        f.write(struct.pack("<Q", len(j)) + j.encode() + body)


grid = [-1 + (j - 3) * 0.4 for j in range(12)] * 5
safetensors("missing_spline.safetensors", [
    ("layers.0.base_weight", [4, 5], [0.0] * 20),
    ("layers.0.grid", [5, 12], grid)])
safetensors("bad_grid_shape.safetensors", [
    ("layers.0.base_weight", [4, 5], [0.0] * 20),
    ("layers.0.grid", [5, 4], [0.0] * 20),
    ("layers.0.spline_weight", [4, 5, 8], [0.0] * 160)])
