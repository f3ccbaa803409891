#!/usr/bin/python3
"""How close each rule's update is to the exact gradient, on one fixed batch.

usage: estimators.py [options]   (--help lists them)

For every rule (activity, ternary, fg), direction count and seed it runs one
plain step of kan-train (`--steps 1 --optimizer sgd --lr-schedule constant`,
no validation rows, no weight average) from the same initial weights on a
batch that is the whole data file, so the step's update is
(w_before - w_after) / lr: the rule's estimate of the gradient. The exact
gradient of the batch-mean cross-entropy comes from torch.autograd through
the independent efficient-kan peer (python/kanpeer). Per rule and direction
count it prints one JSON line:

  cos_mean, cos_sd   cosine similarity of one step's estimate with the exact
                     gradient, over the seeds (all trained tensors together)
  residual           1 - cos_mean^2: the share of the estimate's squared norm
                     that no scaling of it removes (its variance, relative,
                     after the best step size)
  cos_of_mean        cosine of the mean of the seeds' estimates (near 1 for
                     an unbiased estimator given enough seeds)
  cos_layers         cos_mean per layer (the activity rule's output layer
                     takes the exact local derivative)

and, with --markdown, a table of the same.

--model adds noise_step variants that kan-train does not build, modelled in
torch from the exact per-example gradients g_r of the same batch (a JVP along
v is g . v, so the model gives the scalars a JVP would): the sparse ternary
rule as kan-train runs it (n directions shared by the batch, "ternary-model",
which checks the model against the measured "ternary" rows), the same with n
directions of each example's own ("ternary-per-example-model": a_rk = g_r .
v_rk, the median rule over all n x rows scalars, the update sum tau_rk v_rk),
and both at --model-density. Directions are drawn like kan-train's (per
tensor, max(1, round(density * size)) positions with replacement, each +-1)
from torch's generator, not Philox.
"""
import argparse
import gzip
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
from kanpeer import efficient_kan as ek  # noqa: E402
from kanpeer.tensor_io import load_safetensors  # noqa: E402


def fail(msg):
    sys.exit(f"estimators.py: error: {msg}")


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except OSError as e:
        fail(f"{path}: {e}")
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def load_batch(args):
    """The first --rows rows: features (as kan-train reads them) and labels."""
    if args.csv:
        try:
            rows = np.loadtxt(args.csv, delimiter=",", ndmin=2,
                              skiprows=1 if args.csv_header else 0)
        except (OSError, ValueError) as e:
            fail(f"{args.csv}: {e}")
        rows = rows[:args.rows]
        return rows[:, 1:], rows[:, 0].astype(np.int64)
    img = read_idx(os.path.join(args.data_dir, "train-images-idx3-ubyte.gz"))
    lab = read_idx(os.path.join(args.data_dir, "train-labels-idx1-ubyte.gz"))
    x = img[:args.rows].reshape(args.rows, -1).astype(np.float64) / 127.5 - 1.0
    return x, lab[:args.rows].astype(np.int64)


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        fail(" ".join(cmd) + f" failed ({r.returncode}):\n{r.stderr[-2000:]}")
    return r


def trained(params):
    return [k for k in ek.param_names(params) if not k.endswith(".grid")]


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kan-train", default="kan-train",
                    help="the kan-train to measure (default: from PATH)")
    ap.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist",
                    help="MNIST-family IDX files (default Fashion-MNIST)")
    ap.add_argument("--csv", help="CSV data instead (label, then features)")
    ap.add_argument("--csv-header", action="store_true")
    ap.add_argument("--rows", type=int, default=128,
                    help="the batch: the first ROWS rows (default 128)")
    ap.add_argument("--widths", default="784,64,10")
    ap.add_argument("--init-weights",
                    help="weights to measure at (default: kan-train's "
                         "initial weights of --init-seed 0)")
    ap.add_argument("--rules", default="activity,ternary,fg")
    ap.add_argument("--directions", default="8,32,128",
                    help="direction counts, comma-separated")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--lr", type=float, default=1e-3,
                    help="step size of the one step (the estimate is the "
                         "update over it)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--work-dir", help="keep the runs here (default: a "
                                       "temporary directory)")
    ap.add_argument("--model", action="store_true",
                    help="also model noise_step variants from exact "
                         "per-example gradients (see above)")
    ap.add_argument("--model-density", default="2e-3",
                    help="densities of the modelled variants, comma-separated "
                         "(default 2e-3, kan-train's)")
    ap.add_argument("--markdown", action="store_true",
                    help="print a Markdown table after the JSON lines")
    args = ap.parse_args()
    if args.rows < 1 or args.seeds < 1 or not args.lr > 0:
        fail("--rows and --seeds must be positive and --lr > 0")
    dirs = [int(d) for d in args.directions.split(",")]
    rules = args.rules.split(",")
    for r in rules:
        if r not in ("activity", "ternary", "fg"):
            fail(f"--rules: '{r}' is not activity, ternary or fg")
    try:
        densities = [float(d) for d in args.model_density.split(",")]
    except ValueError:
        fail(f"--model-density: '{args.model_density}' is not a list of numbers")
    if not all(0 < d <= 1 for d in densities):
        fail("--model-density: every density must be in (0, 1]")

    work = args.work_dir or tempfile.mkdtemp(prefix="kan-estimators-")
    os.makedirs(work, exist_ok=True)
    x, labels = load_batch(args)
    if x.shape[0] < args.rows:
        fail(f"the data has {x.shape[0]} rows, fewer than --rows {args.rows}")
    batch_csv = os.path.join(work, "batch.csv")
    np.savetxt(batch_csv, np.column_stack([labels, x]), delimiter=",",
               fmt="%.17g")

    common = [args.kan_train, "--train-csv", batch_csv, "--widths", args.widths,
              "--batch", str(args.rows), "--steps", "1", "--threads",
              str(args.threads), "--optimizer", "sgd", "--lr-schedule",
              "constant", "--lr", repr(args.lr), "--validation", "0",
              "--average", "0", "--eval-every", "0", "--metrics-every", "0",
              "--work-dir", work]
    init = args.init_weights
    if not init:
        # kan-train's own initial weights: the first run's log keeps them.
        ck = os.path.join(work, "init-run.safetensors")
        run(common + ["--rule", "ternary", "--checkpoint", ck])
        init = os.path.join(work, "init-run.replay.init.safetensors")
    params, _ = load_safetensors(init)
    names = trained(params)

    # The exact gradient of the batch-mean cross-entropy.
    p = {k: v.clone().to(torch.float64) for k, v in params.items()}
    for k in names:
        p[k].requires_grad_(True)
    z = ek.kan_forward(p, torch.from_numpy(x))
    loss = ek.cross_entropy_loss(z, torch.from_numpy(labels))
    grads = torch.autograd.grad(loss, [p[k] for k in names])
    exact = {k: g.detach().numpy().ravel() for k, g in zip(names, grads)}
    layers = sorted({k.split(".")[1] for k in names}, key=int)

    def cos(a, b):
        na, nb = np.linalg.norm(a), np.linalg.norm(b)
        return float(a @ b / (na * nb)) if na > 0 and nb > 0 else 0.0

    full = np.concatenate([exact[k] for k in names])
    results = []
    for rule in rules:
        for n in dirs:
            cs, per_layer, estimates = [], {l: [] for l in layers}, []
            for seed in range(args.seeds):
                ck = os.path.join(work, f"{rule}-{n}-{seed}.safetensors")
                run(common + ["--rule", rule, "-n", str(n), "--seed", str(seed),
                              "--init-weights", init, "--checkpoint", ck])
                after, _ = load_safetensors(ck)
                est = {k: (params[k].numpy().astype(np.float64) -
                           after[k].numpy().astype(np.float64)).ravel() / args.lr
                       for k in names}
                e = np.concatenate([est[k] for k in names])
                estimates.append(e)
                cs.append(cos(e, full))
                for l in layers:
                    ks = [k for k in names if k.split(".")[1] == l]
                    per_layer[l].append(cos(np.concatenate([est[k] for k in ks]),
                                            np.concatenate([exact[k] for k in ks])))
            c = float(np.mean(cs))
            res = {"rule": rule, "directions": n, "seeds": args.seeds,
                   "rows": args.rows, "widths": args.widths,
                   "cos_mean": c, "cos_sd": float(np.std(cs)),
                   "residual": 1 - c * c,
                   "cos_of_mean": cos(np.mean(estimates, axis=0), full),
                   "cos_layers": [float(np.mean(per_layer[l])) for l in layers]}
            results.append(res)
            print(json.dumps(res), flush=True)
    if args.model:
        results += model_variants(args, p, names, x, labels, full, dirs,
                                  densities, layers, cos)
    if args.markdown:
        print("\n| rule | directions | cosine (mean ± sd) | 1 - cos² | cosine of the "
              f"mean of {args.seeds} | per layer |")
        print("|---|---|---|---|---|---|")
        for r in results:
            name = r["rule"] + (f" (density {r['density']:g})" if "density" in r else "")
            com = "-" if r["cos_of_mean"] is None else f"{r['cos_of_mean']:.3f}"
            print(f"| {name} | {r['directions']} | {r['cos_mean']:.3f} ± "
                  f"{r['cos_sd']:.3f} | {r['residual']:.3f} | {com} | "
                  + ", ".join(f"{c:.3f}" for c in r["cos_layers"]) + " |")


def ternary_update(a, dirs_of, names, sizes):
    """The median rule over the scalars a (any shape), then sum tau v."""
    flat = a.reshape(-1)
    s = np.sort(np.abs(flat))
    med = 0.5 * (s[(len(s) - 1) // 2] + s[len(s) // 2])
    tau = np.where((np.abs(flat) >= med) & (flat != 0), np.sign(flat), 0.0)
    upd = {k: np.zeros(sizes[k]) for k in names}
    for t, j in zip(tau, range(len(tau))):
        if t == 0:
            continue
        for k, (pos, sign) in dirs_of(j).items():
            np.add.at(upd[k], pos, t * sign)
    return upd


def model_variants(args, p, names, x, labels, full, dirs, densities, layers,
                   cos):
    """Cosines of modelled noise_step variants (see --model)."""
    rows = x.shape[0]
    sizes = {k: p[k].numel() for k in names}
    # Exact per-example gradients, one backward pass per row.
    per_row = []
    for r in range(rows):
        z = ek.kan_forward(p, torch.from_numpy(x[r:r + 1]))
        lr_ = ek.cross_entropy_loss(z, torch.from_numpy(labels[r:r + 1]))
        g = torch.autograd.grad(lr_, [p[k] for k in names])
        per_row.append({k: gi.detach().numpy().ravel() for k, gi in zip(names, g)})
    mean = {k: sum(g[k] for g in per_row) / rows for k in names}
    out = []
    for density in densities:
        m = {k: max(1, round(density * sizes[k])) for k in names}
        for variant in ("ternary-model", "ternary-per-example-model"):
            for n in dirs:
                cs, per_layer = [], {l: [] for l in layers}
                for seed in range(args.seeds):
                    gen = torch.Generator().manual_seed(1000003 * seed + n)
                    count = n if variant == "ternary-model" else n * rows
                    drawn = [{k: (torch.randint(sizes[k], (m[k],), generator=gen).numpy(),
                                  torch.randint(2, (m[k],), generator=gen).numpy() * 2.0 - 1)
                              for k in names} for _ in range(count)]
                    a = np.zeros(count)
                    for j, v in enumerate(drawn):
                        if variant == "ternary-model":
                            a[j] = sum(float((sign * mean[k][pos]).sum())
                                       for k, (pos, sign) in v.items())
                        else:
                            g = per_row[j // n]
                            a[j] = sum(float((sign * g[k][pos]).sum())
                                       for k, (pos, sign) in v.items())
                    upd = ternary_update(a, lambda j: drawn[j], names, sizes)
                    e = np.concatenate([upd[k] for k in names])
                    cs.append(cos(e, full))
                    for l in layers:
                        ks = [k for k in names if k.split(".")[1] == l]
                        ex = np.concatenate([mean[k] for k in ks])
                        per_layer[l].append(cos(np.concatenate([upd[k] for k in ks]), ex))
                c = float(np.mean(cs))
                res = {"rule": variant, "directions": n, "density": density,
                       "seeds": args.seeds, "rows": rows, "widths": args.widths,
                       "cos_mean": c, "cos_sd": float(np.std(cs)),
                       "residual": 1 - c * c, "cos_of_mean": None,
                       "cos_layers": [float(np.mean(per_layer[l])) for l in layers]}
                out.append(res)
                print(json.dumps(res), flush=True)
    return out


if __name__ == "__main__":
    main()
