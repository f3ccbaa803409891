#!/usr/bin/python3
"""Self-checks of the peer; exits non-zero on failure.

    /usr/bin/python3 python/kanpeer/selfcheck.py      (or: python3 -m kanpeer.selfcheck)

- B-spline partition of unity on [t_k, t_{G+k}) for uniform and non-uniform grids
- b_splines vs an independent scalar Cox-de Boor (plain Python floats)
- d/dx B from the closed form of ALGORITHMS.md section 1 vs forward_ad
- forward_ad JVP of output and losses vs central finite differences (f64, rel < 1e-7)
- forward_ad loss JVP vs reverse-mode gradient . tangent
- safetensors round trip and the checked-in golden files (if present)
"""
import math
import os
import sys
import tempfile

if __package__ in (None, ""):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import torch  # noqa: E402
import torch.autograd.forward_ad as fwAD  # noqa: E402
import kanpeer as kp  # noqa: E402

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "golden")
failures = []


def check(name, ok, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'} {name} {detail}")
    if not ok:
        failures.append(name)


def rel(a, b):
    return float((a - b).norm() / max(float(b.norm()), 1e-300))


def scalar_basis(x, t, k):
    """Textbook Cox-de Boor for one x and one knot row (plain floats)."""
    B = [1.0 if t[j] <= x < t[j + 1] else 0.0 for j in range(len(t) - 1)]
    for p in range(1, k + 1):
        B = [(x - t[j]) / (t[j + p] - t[j]) * B[j]
             + (t[j + p + 1] - x) / (t[j + p + 1] - t[j + 1]) * B[j + 1]
             for j in range(len(B) - 1)]
    return B


def nonuniform_grid(I, G, k, seed):
    t = kp.make_grid(I, G, k)
    g = torch.Generator().manual_seed(seed)
    s = (torch.rand(t.shape, generator=g, dtype=torch.float64) - 0.5) * (2.0 / G) * 0.5
    s[:, 0] = s[:, -1] = 0
    return t + s


def main():
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(1)
    G, k, I = 5, 3, 4
    for label, grid in (("uniform", kp.make_grid(I, G, k)),
                        ("non-uniform", nonuniform_grid(I, G, k, 2))):
        lo, hi = grid[:, k], grid[:, G + k]
        x = lo + (hi - lo) * torch.rand(2000, I, generator=g, dtype=torch.float64)
        x[0] = lo  # the left end of the core range is included
        B = kp.b_splines(x, grid, k)
        err = float((B.sum(-1) - 1).abs().max())
        check(f"partition of unity ({label})", err < 1e-14, f"max |sum-1| = {err:.2e}")
        nz = (B != 0).sum(-1)
        check(f"at most k+1 non-zero bases ({label})", int(nz.max()) <= k + 1)

        xs = torch.cat([x[:50], grid.t()[:, :], torch.full((2, I), 3.0)])  # incl. knots
        ref = torch.tensor([[scalar_basis(float(xs[n, i]), grid[i].tolist(), k)
                             for i in range(I)] for n in range(xs.shape[0])],
                           dtype=torch.float64)
        err = float((kp.b_splines(xs, grid, k) - ref).abs().max())
        check(f"b_splines vs scalar Cox-de Boor ({label})", err < 1e-15, f"{err:.2e}")

        # Closed-form derivative: k (B_{k-1}[j]/(t[j+k]-t[j]) - B_{k-1}[j+1]/(t[j+k+1]-t[j+1]))
        Bk1 = kp.b_splines(x, grid, k - 1)
        d1 = grid[:, k:-1] - grid[:, :-(k + 1)]
        d2 = grid[:, k + 1:] - grid[:, 1:-k]
        dB = k * (Bk1[:, :, :-1] / d1 - Bk1[:, :, 1:] / d2)
        with fwAD.dual_level():
            xd = fwAD.make_dual(x, torch.ones_like(x))
            dB_ad = fwAD.unpack_dual(kp.b_splines(xd, grid, k)).tangent
        check(f"basis derivative formula vs forward_ad ({label})", rel(dB, dB_ad) < 1e-12,
              f"rel {rel(dB, dB_ad):.2e}")

    # JVPs of a [5,4,3] model with a non-uniform second grid, against central differences.
    p = kp.KAN([5, 4, 3], seed=3).params()
    p["layers.1.grid"].copy_(nonuniform_grid(4, 5, 3, 4))
    x = torch.rand(32, 5, generator=g, dtype=torch.float64) * 3 - 1.5
    x[0, :] = p["layers.0.grid"][:, 4]  # on knots
    tang = {n: torch.randn(p[n].shape, generator=g, dtype=torch.float64)
            for n in kp.param_names(p)}
    tang["input"] = torch.randn(x.shape, generator=g, dtype=torch.float64)
    labels = torch.randint(3, (32,), generator=g)
    target = torch.randn(32, 3, generator=g, dtype=torch.float64)

    def shifted(eps):
        q = {n: (v + eps * tang[n] if n in tang else v) for n, v in p.items()}
        return q, x + eps * tang["input"]

    eps = 1e-6
    qp, xp = shifted(eps)
    qm, xm = shifted(-eps)
    _, dy = kp.jvp(p, x, tang)
    fd = (kp.kan_forward(qp, xp) - kp.kan_forward(qm, xm)) / (2 * eps)
    check("output JVP vs central FD", rel(dy, fd) < 1e-7, f"rel {rel(dy, fd):.2e}")
    for loss, tgt in (("mse", target), ("cross_entropy", labels)):
        fn = kp.LOSSES[loss]
        _, dl = kp.loss_jvp(p, x, tgt, tang, loss)
        fdl = (float(fn(kp.kan_forward(qp, xp), tgt)) - float(fn(kp.kan_forward(qm, xm), tgt))) / (2 * eps)
        e = abs(dl - fdl) / abs(fdl)
        check(f"{loss} JVP vs central FD", e < 1e-7, f"rel {e:.2e}")
        # Reverse mode: grad . v must equal the forward-mode JVP.
        names = kp.param_names(p)
        leaves = {n: (v.clone().requires_grad_(True) if n in names else v) for n, v in p.items()}
        xl = x.clone().requires_grad_(True)
        grads = torch.autograd.grad(fn(kp.kan_forward(leaves, xl), tgt), [leaves[n] for n in names] + [xl])
        dot = sum(float((gr * tang[n]).sum()) for gr, n in zip(grads, names + ["input"]))
        e = abs(dl - dot) / abs(dot)
        check(f"{loss} JVP vs reverse-mode gradient", e < 1e-12, f"rel {e:.2e}")

    # Safetensors round trip (all supported dtypes, metadata, empty tensor).
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "t.safetensors")
        src = {"b": torch.randn(3, 4, dtype=torch.float64), "a": torch.randn(5, dtype=torch.float32),
               "c": torch.arange(7, dtype=torch.int64), "e": torch.zeros(0, 3)}
        kp.save_safetensors(path, src, {"k": "v"})
        raw = open(path, "rb").read()
        n = int.from_bytes(raw[:8], "little")
        back, meta = kp.load_safetensors(path)
        ok = (n % 8 == 0 and meta == {"k": "v"} and set(back) == set(src)
              and all(torch.equal(back[k], src[k]) and back[k].dtype == src[k].dtype for k in src))
        check("safetensors round trip", ok)

    # The checked-in golden vectors reproduce from the files alone.
    if os.path.exists(os.path.join(GOLDEN, "kan_small.safetensors")):
        gp, meta = kp.load_safetensors(os.path.join(GOLDEN, "kan_small.safetensors"))
        gx = kp.load_npy(os.path.join(GOLDEN, "kan_small_x.npy"))
        gy = kp.load_npy(os.path.join(GOLDEN, "kan_small_y.npy"))
        gt, _ = kp.load_safetensors(os.path.join(GOLDEN, "kan_small_tangents.safetensors"))
        gdy = kp.load_npy(os.path.join(GOLDEN, "kan_small_dy.npy"))
        y, dy = kp.jvp(gp, gx, gt)
        check("golden y/dy reproduce", torch.equal(y, gy) and torch.equal(dy, gdy))
        y32 = kp.load_npy(os.path.join(GOLDEN, "kan_small_f32_y.npy"))
        e = float((y32.double() - gy).abs().max())
        check("golden f32 output within 1e-5 of f64", e < 1e-5, f"max abs {e:.2e}")
        check("golden metadata", meta.get("format") == "efficient-kan" and meta.get("widths") == "5,4,3")

    print("selfcheck:", "FAILED " + ", ".join(failures) if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
