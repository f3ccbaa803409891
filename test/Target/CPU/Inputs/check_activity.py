"""Checks the compiled activity-rule estimator against PyTorch's exact gradient.

usage: check_activity.py MODEL.so GOLDEN_DIR SRC_ROOT DIRECTIONS [--dump FILE]

Calls kan_train_step_grad (rule=activity gradient=true) of the small golden
model [5, 4, 3] on its 16 golden examples and compares every tensor's
update with the gradient of the batch-mean cross-entropy that torch.autograd
computes through the independent efficient-kan peer (python/kanpeer):
  - the output layer takes the exact local derivative, so its update must
    equal the exact gradient to rounding;
  - the hidden layer's update is an unbiased estimate from DIRECTIONS
    per-example perturbations: its cosine similarity with the exact gradient
    must approach 1, and the estimates of independent seeds must average
    closer to it than one seed does (no bias).
"""
import ctypes
import os
import sys

import numpy as np
import torch

so, golden, src, ndir = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
# --dump FILE: only write the first seed's estimate (every tensor, in order)
# as raw doubles, for comparing builds and thread counts byte for byte.
dump = sys.argv[6] if len(sys.argv) > 6 and sys.argv[5] == "--dump" else None
sys.path.insert(0, os.path.join(src, "python"))
from kanpeer import efficient_kan as ek  # noqa: E402
from kanpeer.tensor_io import load_safetensors  # noqa: E402

params, _ = load_safetensors(os.path.join(golden, "kan_small.safetensors"))
x = np.load(os.path.join(golden, "kan_small_x.npy"))
labels = np.load(os.path.join(golden, "kan_small_labels.npy")).astype(np.int64)
n = x.shape[0]
names = []
for layer in range(2):
    for key in ("grid", "base_weight", "spline_weight", "spline_scaler"):
        names.append(f"layers.{layer}.{key}")

lib = ctypes.CDLL(so)
P = ctypes.POINTER(ctypes.c_double)
lib.kan_train_step_grad.restype = ctypes.c_int
lib.kan_train_step_grad.argtypes = [P, ctypes.POINTER(ctypes.c_int64),
                                    ctypes.c_int64, ctypes.c_uint64,
                                    ctypes.c_int64, ctypes.POINTER(P),
                                    ctypes.POINTER(P), P, P]


def estimate(seed):
    ps = [np.ascontiguousarray(params[k].numpy(), dtype=np.float64)
          for k in names]
    gs = [np.zeros_like(p) for p in ps]
    parr = (P * len(ps))(*[p.ctypes.data_as(P) for p in ps])
    garr = (P * len(gs))(*[g.ctypes.data_as(P) for g in gs])
    loss = ctypes.c_double()
    alphas = np.zeros(ndir)
    xc = np.ascontiguousarray(x)
    st = lib.kan_train_step_grad(xc.ctypes.data_as(P),
                                 labels.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)),
                                 n, seed, 0, parr, garr, ctypes.byref(loss),
                                 alphas.ctypes.data_as(P))
    assert st == 0, st
    before = [np.ascontiguousarray(params[k].numpy()) for k in names]
    assert all(np.array_equal(a, b) for a, b in zip(ps, before)), \
        "gradient mode changed the parameters"
    return dict(zip(names, gs)), loss.value


if dump:
    g, _ = estimate(1)
    np.concatenate([g[k].ravel() for k in names]).tofile(dump)
    sys.exit(0)

# The exact gradient through the peer (torch.autograd, float64).
leaves = {k: params[k].clone().double().requires_grad_(not k.endswith("grid"))
          for k in names}
z = ek.kan_forward(leaves, torch.from_numpy(x))
loss = ek.cross_entropy_loss(z, torch.from_numpy(labels))
loss.backward()
exact = {k: leaves[k].grad.numpy() for k in names if not k.endswith("grid")}

est, l = estimate(1)
ok = abs(l - loss.item()) <= 1e-12 * abs(loss.item())
print(f"loss {l:.12g} torch {loss.item():.12g} {'PASS' if ok else 'FAIL'}")
worst = max(np.max(np.abs(est[k] - exact[k])) / np.max(np.abs(exact[k]))
            for k in exact if k.startswith("layers.1."))
print(f"output layer max_rel_err {worst:.3g} {'PASS' if worst < 1e-10 else 'FAIL'}")


def cosine(g):
    a = np.concatenate([g[k].ravel() for k in exact if k.startswith("layers.0.")])
    b = np.concatenate([exact[k].ravel() for k in exact if k.startswith("layers.0.")])
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


c1 = cosine(est)
print(f"hidden layer cosine {c1:.4f} {'PASS' if c1 > 0.98 else 'FAIL'}")
# Unbiased: the mean of independent estimates is closer than one of them.
seeds = [estimate(s)[0] for s in range(2, 10)]
mean = {k: np.mean([g[k] for g in seeds], axis=0) for k in exact}
cm = cosine(mean)
print(f"hidden layer cosine of 8 seeds' mean {cm:.4f} "
      f"{'PASS' if cm > c1 and cm > 0.995 else 'FAIL'}")
# The grids come back as copies.
print("grids copied", "PASS" if all(np.array_equal(est[k], params[k].numpy())
                                    for k in names if k.endswith("grid")) else "FAIL")
