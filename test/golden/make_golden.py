#!/usr/bin/python3
"""Writes the golden vectors in this directory (deterministic; see README.md).

    /usr/bin/python3 test/golden/make_golden.py [--out DIR]
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))

import torch  # noqa: E402
import kanpeer as kp  # noqa: E402

WIDTHS, G, K, N, SEED = [5, 4, 3], 5, 3, 16, 20240601
METADATA = {"spline_order": str(K), "grid_size": str(G),
            "widths": ",".join(map(str, WIDTHS)), "base_activation": "silu",
            "format": "efficient-kan"}


def build_model():
    model = kp.KAN(WIDTHS, grid_size=G, spline_order=K, dtype=torch.float64, seed=SEED)
    p = model.params()
    # Non-uniform grid on layers.1: move every knot except the two ends by at most
    # h/4, so consecutive knots stay at least h/2 apart (strictly increasing).
    g = torch.Generator().manual_seed(SEED + 1)
    grid = p["layers.1.grid"]
    h = 2.0 / G
    shift = (torch.rand(grid.shape, generator=g, dtype=torch.float64) - 0.5) * (h / 2)
    shift[:, 0] = 0
    shift[:, -1] = 0
    grid.add_(shift)
    assert bool((grid[:, 1:] > grid[:, :-1]).all())
    return p


def build_input(p):
    g = torch.Generator().manual_seed(SEED + 2)
    x = (torch.rand(N, WIDTHS[0], generator=g, dtype=torch.float64) * 2.4 - 1.2)
    t = p["layers.0.grid"]  # uniform: t[j] = -1 + (j-3)*0.4, j = 0..11
    # Values outside [-1, 1] but inside the extended grid [t0, t11) = [-2.2, 2.2).
    x[0] = torch.tensor([1.5, -1.7, 2.1, -2.15, 1.05])
    # Outside the whole grid: every basis value is 0, only silu contributes.
    x[1] = torch.tensor([2.5, -3.0, 10.0, -2.3, 2.25])
    # Exactly on knots (copied from the grid so they are bit-equal): first knot t0
    # (basis non-zero), last knot t11 (half-open: all bases zero), t3 = -1, t8 = 1,
    # and interior knots.
    x[2] = torch.stack([t[0, 0], t[1, 11], t[2, 3], t[3, 8], t[4, 5]])
    x[3] = torch.stack([t[0, 4], t[1, 6], t[2, 7], t[3, 2], t[4, 9]])
    x[4, 0] = 0.0
    return x


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=HERE)
    args = ap.parse_args()
    torch.set_num_threads(1)
    out = lambda name: os.path.join(args.out, name)  # noqa: E731

    p = build_model()
    x = build_input(p)
    y = kp.kan_forward(p, x)
    kp.save_safetensors(out("kan_small.safetensors"), p, METADATA)
    kp.save_npy(out("kan_small_x.npy"), x)
    kp.save_npy(out("kan_small_y.npy"), y)

    g = torch.Generator().manual_seed(SEED + 3)
    tangents = {n: torch.randn(p[n].shape, generator=g, dtype=torch.float64)
                for n in kp.param_names(p)}
    tangents["input"] = torch.randn(x.shape, generator=g, dtype=torch.float64)
    kp.save_safetensors(out("kan_small_tangents.safetensors"), tangents,
                        {"format": "efficient-kan-tangents", "model": "kan_small.safetensors"})
    y2, dy = kp.jvp(p, x, tangents)
    assert torch.equal(y, y2)
    kp.save_npy(out("kan_small_dy.npy"), dy)
    # The training case: parameter tangents only (x' = 0 in the first layer).
    no_input = {k: v for k, v in tangents.items() if k != "input"}
    kp.save_npy(out("kan_small_dy_params.npy"), kp.jvp(p, x, no_input)[1])

    labels = torch.randint(WIDTHS[-1], (N,), generator=g, dtype=torch.int64)
    target = torch.randn(N, WIDTHS[-1], generator=g, dtype=torch.float64)
    kp.save_npy(out("kan_small_labels.npy"), labels)
    kp.save_npy(out("kan_small_target.npy"), target)
    mse, dmse = kp.loss_jvp(p, x, target, tangents, "mse")
    ce, dce = kp.loss_jvp(p, x, labels, tangents, "cross_entropy")
    _, dmse_p = kp.loss_jvp(p, x, target, no_input, "mse")
    _, dce_p = kp.loss_jvp(p, x, labels, no_input, "cross_entropy")
    losses = {
        "mse": mse, "mse_jvp": dmse, "mse_jvp_params": dmse_p,
        "cross_entropy": ce, "cross_entropy_jvp": dce, "cross_entropy_jvp_params": dce_p,
        "note": "mse = mean over all N*O elements of (y - target)^2; cross_entropy = "
                "batch mean of softmax cross-entropy vs kan_small_labels.npy; *_jvp along "
                "all of kan_small_tangents.safetensors, *_jvp_params without 'input'",
    }
    with open(out("kan_small_losses.json"), "w") as f:
        json.dump(losses, f, indent=1)
        f.write("\n")

    p32 = {k: v.to(torch.float32) for k, v in p.items()}
    x32 = x.to(torch.float32)
    kp.save_safetensors(out("kan_small_f32.safetensors"), p32, METADATA)
    kp.save_npy(out("kan_small_f32_x.npy"), x32)
    kp.save_npy(out("kan_small_f32_y.npy"), kp.kan_forward(p32, x32))


if __name__ == "__main__":
    main()
