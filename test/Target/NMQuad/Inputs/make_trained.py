#!/usr/bin/python3
"""Writes OUT/trained.safetensors, an efficient-kan state_dict that looks
trained (KAN [16, 24, 8], G = 7, k = 2, f64): every input has its own
non-uniform grid on its own range, spline scalers of both signs far from 1,
weights of unit scale. Also OUT/x.npy (40 x 16), about a quarter of it
outside the grids. Deterministic.

    /usr/bin/python3 make_trained.py OUT
    /usr/bin/python3 make_trained.py OUT --f32 W0,W1,...

The second form writes the same kind of model of the given widths in
float32 as OUT/trained_f32.safetensors and OUT/x_f32.npy.
"""
import json
import os
import sys

import numpy as np

WIDTHS, G, K = [16, 24, 8], 7, 2


def grid(rng, inputs):
    rows = []
    for _ in range(inputs):
        lo, hi = rng.uniform(-3.0, -0.5), rng.uniform(0.5, 3.0)
        h = (hi - lo) / G
        t = lo + h * (np.arange(G + 2 * K + 1) - K)
        # Interior knots moved by up to h/4: strictly increasing, non-uniform.
        t[1:-1] += rng.uniform(-h / 4, h / 4, G + 2 * K - 1)
        rows.append(t)
    return np.array(rows)


def save_safetensors(path, tensors, metadata, f32=False):
    header = {"__metadata__": metadata}
    offset, blobs = 0, []
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name], dtype="<f4" if f32 else "<f8")
        header[name] = {"dtype": "F32" if f32 else "F64", "shape": list(a.shape),
                        "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
        blobs.append(a.tobytes())
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little") + text + b"".join(blobs))


def main():
    out = sys.argv[1]
    widths, f32 = WIDTHS, False
    if len(sys.argv) == 4 and sys.argv[2] == "--f32":
        widths, f32 = [int(w) for w in sys.argv[3].split(",")], True
    elif len(sys.argv) != 2:
        sys.exit("usage: make_trained.py OUT [--f32 W0,W1,...]")
    rng = np.random.default_rng(20250112)
    p = {}
    for l, (i, o) in enumerate(zip(widths, widths[1:])):
        p["layers.%d.grid" % l] = grid(rng, i)
        p["layers.%d.base_weight" % l] = rng.normal(0, 1 / np.sqrt(i), (o, i))
        p["layers.%d.spline_weight" % l] = rng.normal(0, 0.5, (o, i, G + K))
        sign = np.where(rng.uniform(size=(o, i)) < 0.5, -1.0, 1.0)
        p["layers.%d.spline_scaler" % l] = sign * rng.uniform(0.2, 3.0, (o, i))
    meta = {"spline_order": str(K), "grid_size": str(G),
            "widths": ",".join(map(str, widths)), "base_activation": "silu",
            "format": "efficient-kan"}
    suffix = "_f32" if f32 else ""
    save_safetensors(os.path.join(out, "trained%s.safetensors" % suffix), p,
                     meta, f32)
    x = rng.uniform(-4.0, 4.0, (40, widths[0]))
    np.save(os.path.join(out, "x%s.npy" % suffix),
            x.astype(np.float32) if f32 else x)


if __name__ == "__main__":
    main()
