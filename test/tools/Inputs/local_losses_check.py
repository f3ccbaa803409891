#!/usr/bin/python3
"""kan-train --local-losses against torch.autograd through python/kanpeer.

usage: local_losses_check.py KAN_TRAIN CSV ROWS WIDTHS DIRECTIONS SEEDS WORK

One plain step (sgd, constant lr, no validation, no average) on a batch that
is the first ROWS rows of CSV, from kan-train's own initial weights (the
replay log's copy), for SEEDS seeds. The step's update over the step size,
per tensor, is compared with the exact gradients of the local losses:

- hidden layer l: the cross-entropy of head l's logits on layer l's output,
  differentiated with respect to layer l's own tensors (the JVP estimate,
  unbiased: its cosine with that gradient nears 1 with many directions);
- head l: the same loss with respect to the head's tensors (exact);
- output layer: the model's cross-entropy (exact).

Prints one JSON line with the cosines, the cosines of the hidden layers'
updates with the gradient of the model's loss instead (what the local losses
do not follow), and the largest relative error of the exact updates.
"""
import json
import os
import subprocess
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "python"))
from kanpeer import efficient_kan as ek  # noqa: E402
from kanpeer.tensor_io import load_safetensors  # noqa: E402

TRAINED = ("base_weight", "spline_weight", "spline_scaler")


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(" ".join(cmd) + f" failed ({r.returncode}):\n{r.stderr[-2000:]}")
    return r


def layer(p, prefix, x):
    return ek.kan_linear(x, p[prefix + "grid"], p[prefix + "base_weight"],
                         p[prefix + "spline_weight"], p.get(prefix + "spline_scaler"))


def main():
    kan_train, csv, rows, widths, ndir, seeds, work = sys.argv[1:8]
    rows, seeds = int(rows), int(seeds)
    nlayers = len(widths.split(",")) - 1
    os.makedirs(work, exist_ok=True)
    data = np.loadtxt(csv, delimiter=",", ndmin=2)[:rows]
    batch_csv = os.path.join(work, "batch.csv")
    np.savetxt(batch_csv, data, delimiter=",", fmt="%.17g")
    x = torch.from_numpy(data[:, 1:].copy())
    y = torch.from_numpy(data[:, 0].astype(np.int64))
    lr = 1e-3
    common = [kan_train, "--train-csv", batch_csv, "--widths", widths,
              "--batch", str(rows), "--steps", "1", "--threads", "1",
              "--rule", "activity", "--local-losses", "-n", ndir,
              "--optimizer", "sgd", "--lr-schedule", "constant", "--lr", repr(lr),
              "--validation", "0", "--average", "0", "--eval-every", "0",
              "--metrics-every", "0", "--work-dir", work]

    # Initial weights and heads: the first run's replay log keeps them.
    run(common + ["--seed", "0", "--checkpoint", os.path.join(work, "s0.safetensors")])
    init, _ = load_safetensors(os.path.join(work, "s0.replay.init.safetensors"))
    p = {k: v.clone().to(torch.float64) for k, v in init.items()}

    # Exact local gradients.
    exact = {}
    h = x
    for l in range(nlayers):
        own = [f"layers.{l}.{t}" for t in TRAINED if f"layers.{l}.{t}" in p]
        q = dict(p)
        for k in own:
            q[k] = p[k].clone().requires_grad_(True)
        z = layer(q, f"layers.{l}.", h)
        if l + 1 < nlayers:
            head = [f"local.{l}.{t}" for t in TRAINED if f"local.{l}.{t}" in p]
            for k in head:
                q[k] = p[k].clone().requires_grad_(True)
            loss = ek.cross_entropy_loss(layer(q, f"local.{l}.", z), y)
            names = own + head
        else:
            loss = ek.cross_entropy_loss(z, y)
            names = own
        for k, g in zip(names, torch.autograd.grad(loss, [q[k] for k in names])):
            exact[k] = g.detach().numpy().ravel()
        h = z.detach()

    # The model's own loss with respect to the hidden layers: what the plain
    # activity rule estimates, and the local losses do not.
    q = dict(p)
    hid = [f"layers.{l}.{t}" for l in range(nlayers - 1) for t in TRAINED
           if f"layers.{l}.{t}" in p]
    for k in hid:
        q[k] = p[k].clone().requires_grad_(True)
    loss = ek.cross_entropy_loss(ek.kan_forward(q, x), y)
    glob = {k: g.detach().numpy().ravel()
            for k, g in zip(hid, torch.autograd.grad(loss, [q[k] for k in hid]))}

    def cos(a, b):
        return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))

    hidden = {l: [] for l in range(nlayers - 1)}
    hidden_global = {l: [] for l in range(nlayers - 1)}
    exact_err = 0.0
    for seed in range(seeds):
        ck = os.path.join(work, f"s{seed}.safetensors")
        if seed:
            run(common + ["--seed", str(seed), "--checkpoint", ck])
        after, _ = load_safetensors(ck)
        est = {k: (p[k].numpy() - after[k].numpy().astype(np.float64)).ravel() / lr
               for k in exact}
        for l in hidden:
            ks = [k for k in exact if k.startswith(f"layers.{l}.")]
            hidden[l].append(cos(np.concatenate([est[k] for k in ks]),
                                 np.concatenate([exact[k] for k in ks])))
            hidden_global[l].append(cos(np.concatenate([est[k] for k in ks]),
                                        np.concatenate([glob[k] for k in ks])))
        for k in exact:
            if k.startswith("local.") or k.startswith(f"layers.{nlayers - 1}."):
                err = np.max(np.abs(est[k] - exact[k])) / np.max(np.abs(exact[k]))
                exact_err = max(exact_err, float(err))
    print(json.dumps({"hidden_cos": [float(np.mean(c)) for c in hidden.values()],
                      "hidden_cos_min": min(min(c) for c in hidden.values()),
                      "hidden_cos_model_loss": [float(np.mean(c))
                                                for c in hidden_global.values()],
                      "exact_rel_err": exact_err,
                      "heads": sorted({k.rsplit(".", 1)[0] for k in exact
                                       if k.startswith("local.")})}))


if __name__ == "__main__":
    main()
