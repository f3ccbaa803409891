#!/usr/bin/python3
"""Train the [784, 64, 10] KAN on Fashion-MNIST with the peer's noise_step (no backprop).

    /usr/bin/python3 bench/torch/peer_train.py [--seconds 600] [--rule ternary|fg]

Defaults follow ALGORITHMS.md section 3: batch 256, 32 directions, ternary density 2e-3,
lr 3e-3. Pixels are scaled to [-1, 1] (the default grid range, like efficient-kan's MNIST
example with Normalize(0.5, 0.5)). Prints progress lines to stderr and one final JSON
line {"steps", "seconds", "loss", "test_accuracy", ...} to stdout; "loss" is the mean
training loss over the last 20 steps, "seconds" the training time without evaluation.
"""
import argparse
import gzip
import json
import os
import sys
import time

try:
    import numpy as np
    import torch
except ImportError:
    print(json.dumps({"skipped": "torch not available"}))
    sys.exit(0)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import kanpeer as kp  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    """IDX (MNIST family): magic 0 0 type ndim, big-endian uint32 dims, then data."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">u4", count=ndim, offset=4).astype(np.int64)
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: size does not match header")
    return data.reshape(tuple(dims))


def load_split(data_dir, prefix, dtype):
    images = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"))
    x = torch.from_numpy(images.reshape(len(images), -1).astype(np.float64) / 127.5 - 1.0)
    return x.to(dtype), torch.from_numpy(labels.astype(np.int64))


def accuracy(params, x, y, chunk=2000):
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), chunk):
            correct += int((kp.kan_forward(params, x[i:i + chunk]).argmax(1) == y[i:i + chunk]).sum())
    return correct / len(x)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--rule", choices=["ternary", "fg"], default="ternary")
    ap.add_argument("--ndir", type=int, default=32)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--density", type=float, default=2e-3)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--dtype", choices=["f32", "f64"], default="f32")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--eval-every", type=float, default=60.0, help="seconds between evaluations")
    ap.add_argument("--data", default=DATA)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    dtype = torch.float32 if args.dtype == "f32" else torch.float64
    xtr, ytr = load_split(args.data, "train", dtype)
    xte, yte = load_split(args.data, "t10k", dtype)
    params = kp.KAN([784, 64, 10], 5, 3, dtype=dtype, seed=args.seed).params()
    rng = np.random.default_rng(args.seed)
    order, pos = rng.permutation(len(xtr)), 0

    losses, step, train_time, next_eval = [], 0, 0.0, args.eval_every
    while train_time < args.seconds:
        if pos + args.batch > len(order):
            order, pos = rng.permutation(len(xtr)), 0
        idx = torch.from_numpy(order[pos:pos + args.batch])
        pos += args.batch
        t0 = time.perf_counter()
        loss, _ = kp.noise_step(params, xtr[idx], ytr[idx], "cross_entropy", args.ndir,
                                args.rule, lr=args.lr, density=args.density,
                                seed=args.seed, step=step)
        train_time += time.perf_counter() - t0
        losses.append(loss)
        step += 1
        if train_time >= next_eval:
            next_eval += args.eval_every
            acc = accuracy(params, xte[:2000], yte[:2000])
            print(f"step {step:6d}  {train_time:7.1f}s  loss {np.mean(losses[-20:]):.4f}  "
                  f"test acc (2000) {acc:.4f}", file=sys.stderr, flush=True)
        elif step % 10 == 0 or step == 1:
            print(f"step {step:6d}  {train_time:7.1f}s  loss {np.mean(losses[-20:]):.4f}",
                  file=sys.stderr, flush=True)

    print(json.dumps({"impl": "torch-efficient-kan", "rule": args.rule, "ndir": args.ndir,
                      "batch": args.batch, "dtype": args.dtype, "lr": args.lr,
                      "density": args.density if args.rule == "ternary" else None,
                      "steps": step, "seconds": round(train_time, 2),
                      "loss": float(np.mean(losses[-20:])),
                      "test_accuracy": accuracy(params, xte, yte)}))


if __name__ == "__main__":
    main()
