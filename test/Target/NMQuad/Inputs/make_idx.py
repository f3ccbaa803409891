"""make_idx.py DIR TRAIN TEST [SIDE [PLAIN]]: MNIST-family IDX files in DIR.

train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz (TRAIN samples) and
t10k-* (TEST samples; plain when PLAIN is given, else .gz too) of SIDE x SIDE unsigned-byte images (default
28, the Fashion-MNIST shape): class c is a bright bar at row band c plus
deterministic noise, so a model can learn them. No randomness from Python:
the files are the same on every machine.
"""
import gzip
import os
import struct
import sys


def images(n, side, salt):
    px, lab = bytearray(), bytearray()
    h = 2166136261 ^ salt
    for i in range(n):
        c = (i * 7 + salt) % 10
        lab.append(c)
        for r in range(side):
            for col in range(side):
                h = (h * 16777619 + r * 31 + col) & 0xFFFFFFFF
                v = h >> 26  # 0..63 noise
                if r * 10 // side == c:
                    v += 150 + (col * 3) % 40
                px.append(min(v, 255))
    return bytes(px), bytes(lab)


def put(name, data, gz):
    if gz:
        with gzip.GzipFile(name + ".gz", "wb", mtime=0) as f:
            f.write(data)
    else:
        with open(name, "wb") as f:
            f.write(data)


def write(d, stem, n, side, salt, gz):
    px, lab = images(n, side, salt)
    put(os.path.join(d, stem + "-images-idx3-ubyte"),
        struct.pack(">IIII", 0x803, n, side, side) + px, gz)
    put(os.path.join(d, stem + "-labels-idx1-ubyte"),
        struct.pack(">II", 0x801, n) + lab, gz)


d, ntrain, ntest = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
side = int(sys.argv[4]) if len(sys.argv) > 4 else 28
plain = len(sys.argv) > 5 and sys.argv[5] == "PLAIN"
os.makedirs(d, exist_ok=True)
write(d, "train", ntrain, side, 1, True)
if ntest:
    write(d, "t10k", ntest, side, 2, not plain)
