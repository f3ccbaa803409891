#!/usr/bin/python3
"""Writes OUT/trained.safetensors, an efficient-kan state_dict that looks
trained (KAN [16, 24, 8], G = 7, k = 2, f64): every input has its own
non-uniform grid on its own range, spline scalers of both signs far from 1,
weights of unit scale. Also OUT/x.npy (40 x 16), about a quarter of it
outside the grids. Deterministic.

    /usr/bin/python3 make_trained.py OUT
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


def save_safetensors(path, tensors, metadata):
    header = {"__metadata__": metadata}
    offset, blobs = 0, []
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name], dtype="<f8")
        header[name] = {"dtype": "F64", "shape": list(a.shape),
                        "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
        blobs.append(a.tobytes())
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little") + text + b"".join(blobs))


def main():
    out = sys.argv[1]
    rng = np.random.default_rng(20250112)
    p = {}
    for l, (i, o) in enumerate(zip(WIDTHS, WIDTHS[1:])):
        p["layers.%d.grid" % l] = grid(rng, i)
        p["layers.%d.base_weight" % l] = rng.normal(0, 1 / np.sqrt(i), (o, i))
        p["layers.%d.spline_weight" % l] = rng.normal(0, 0.5, (o, i, G + K))
        sign = np.where(rng.uniform(size=(o, i)) < 0.5, -1.0, 1.0)
        p["layers.%d.spline_scaler" % l] = sign * rng.uniform(0.2, 3.0, (o, i))
    meta = {"spline_order": str(K), "grid_size": str(G),
            "widths": ",".join(map(str, WIDTHS)), "base_activation": "silu",
            "format": "efficient-kan"}
    save_safetensors(os.path.join(out, "trained.safetensors"), p, meta)
    np.save(os.path.join(out, "x.npy"), rng.uniform(-4.0, 4.0, (40, WIDTHS[0])))


if __name__ == "__main__":
    main()
