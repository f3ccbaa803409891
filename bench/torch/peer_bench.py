#!/usr/bin/python3
"""Benchmarks of the PyTorch peer (efficient-kan formulation); one JSON object per line.

    /usr/bin/python3 bench/torch/peer_bench.py [--quick] [--only NAME] [--threads T]

NAME is one of: forward, noise_step, backprop, train_memory, layer_memory.
Fields: impl, bench, widths, batch, dtype, ndir, median_ms, gflops_dense_equiv,
peak_rss_mb (null where not measured), plus reps, threads and for memory runs
baseline_rss_mb (RSS after torch import and setup, before the measured work).

Dense-equivalent flops (the work of the algorithm, not of this implementation, so the
compiled code and the peer are rated on the same scale):
  forward         F = sum over layers 2*N*O*I*(G+k+1)
  noise_step (n)  F * (1 + 2n)   one primal plus n tangent GEMMs with doubled K
                                 (the peer actually runs n full dual forwards)
  backprop        3F             forward + two backward GEMMs
Timings: median of the repetitions after one warm-up run. Memory: ru_maxrss of a fresh
subprocess per measurement, so peaks of different runs never mix (VmHWM of the child,
see peak_rss_mb; ru_maxrss would inherit the parent's peak across fork+exec).
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

try:
    import torch
except ImportError:
    print(json.dumps({"skipped": "torch not available"}))
    sys.exit(0)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import kanpeer as kp  # noqa: E402

IMPL = "torch-efficient-kan"
SHAPES = [([64, 64, 64], 1024), ([784, 64, 10], 256)]
DTYPES = {"f64": torch.float64, "f32": torch.float32}
NDIRS = [1, 8, 32]
G, K = 5, 3


def dense_flops(widths, batch, grid_size=G, spline_order=K):
    return sum(2 * batch * o * i * (grid_size + spline_order + 1)
               for i, o in zip(widths[:-1], widths[1:]))


def setup(widths, batch, dtype, seed=0):
    params = kp.KAN(widths, G, K, dtype=dtype, seed=seed).params()
    g = torch.Generator().manual_seed(seed + 1)
    x = (torch.rand(batch, widths[0], generator=g, dtype=torch.float64) * 2 - 1).to(dtype)
    labels = torch.randint(widths[-1], (batch,), generator=g)
    return params, x, labels


def runner(bench, params, x, labels, ndir):
    if bench == "forward":
        return lambda: kp.kan_forward(params, x)
    if bench == "noise_step":
        state = {"step": 0}

        def run():
            kp.noise_step(params, x, labels, "cross_entropy", ndir, "ternary",
                          lr=3e-3, density=2e-3, step=state["step"])
            state["step"] += 1
        return run
    if bench == "backprop":
        return lambda: kp.backprop_step(params, x, labels, "cross_entropy", lr=3e-3)
    raise ValueError(bench)


def time_it(fn, reps):
    fn()  # warm-up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def emit(**fields):
    rec = {"impl": IMPL, "bench": None, "widths": None, "batch": None, "dtype": None,
           "ndir": None, "median_ms": None, "gflops_dense_equiv": None, "peak_rss_mb": None}
    rec.update(fields)
    print(json.dumps(rec), flush=True)


def _status_kb(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def peak_rss_mb():
    """Peak resident set of this process in MiB.

    ru_maxrss is not usable alone: at exec the kernel carries the forked parent's peak
    into it, so every child would report at least the parent's RSS. VmHWM belongs to the
    new address space; ru_maxrss (KiB on Linux) is the fallback elsewhere.
    """
    hwm = _status_kb("VmHWM")
    if hwm is None:
        hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return hwm / 1024.0


def current_rss_mb():
    kb = _status_kb("VmRSS")
    return kb / 1024.0 if kb is not None else peak_rss_mb()


def child(args):
    """Runs in a fresh process: one measured workload, prints one JSON line."""
    torch.set_num_threads(args.threads)
    widths = [int(w) for w in args.widths.split(",")]
    dtype = DTYPES[args.dtype]
    if args.child == "layer_forward":
        params = kp.KAN(widths, args.grid_size, K, dtype=dtype, seed=0).params()
        x = torch.rand(args.batch, widths[0], dtype=torch.float64).to(dtype) * 2 - 1
        fn = lambda: kp.kan_forward(params, x)  # noqa: E731
        flops = dense_flops(widths, args.batch, args.grid_size)
    else:
        params, x, labels = setup(widths, args.batch, dtype)
        fn = runner(args.child, params, x, labels, args.ndir)
        flops = dense_flops(widths, args.batch) * (1 + 2 * args.ndir
                                                   if args.child == "noise_step" else 3)
    base = current_rss_mb()
    times = []
    for _ in range(args.reps):  # no warm-up: the first run's peak is what we measure
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    med = statistics.median(times)
    print(json.dumps({"median_ms": med, "gflops_dense_equiv": flops / med / 1e6,
                      "peak_rss_mb": peak_rss_mb(), "baseline_rss_mb": base}))


def run_child(args, what, widths, batch, dtype, ndir, reps, grid_size=G):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", what,
           "--widths", ",".join(map(str, widths)), "--batch", str(batch),
           "--dtype", dtype, "--ndir", str(ndir or 0), "--reps", str(reps),
           "--threads", str(args.threads), "--grid-size", str(grid_size)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    ap.add_argument("--only", help="forward|noise_step|backprop|train_memory|layer_memory")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, help="repetitions (default 5, --quick 3)")
    # Internal: a single measurement in a fresh process.
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--widths", help=argparse.SUPPRESS)
    ap.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--dtype", default="f64", help=argparse.SUPPRESS)
    ap.add_argument("--ndir", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--grid-size", type=int, default=G, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    torch.set_num_threads(args.threads)
    reps = args.reps or (3 if args.quick else 5)
    want = lambda name: args.only in (None, name)  # noqa: E731
    common = {"reps": reps, "threads": args.threads}

    for bench in ("forward", "noise_step", "backprop"):
        if not want(bench):
            continue
        for widths, batch in SHAPES:
            for dname, dtype in DTYPES.items():
                for ndir in (NDIRS if bench == "noise_step" else [None]):
                    params, x, labels = setup(widths, batch, dtype)
                    med = time_it(runner(bench, params, x, labels, ndir), reps)
                    F = dense_flops(widths, batch)
                    flops = {"forward": F, "backprop": 3 * F}.get(bench) or F * (1 + 2 * ndir)
                    emit(bench=bench, widths=widths, batch=batch, dtype=dname, ndir=ndir,
                         median_ms=round(med, 3), gflops_dense_equiv=round(flops / med / 1e6, 3),
                         **common)

    if want("train_memory"):
        # Peak RSS of one noise_step step (32 directions) against one backprop step.
        for widths, batch in SHAPES:
            for what, ndir in (("noise_step", 32), ("backprop", None)):
                r = run_child(args, what, widths, batch, "f64", ndir, 1)
                emit(bench=f"train_memory_{what}", widths=widths, batch=batch, dtype="f64",
                     ndir=ndir, median_ms=round(r["median_ms"], 3),
                     gflops_dense_equiv=round(r["gflops_dense_equiv"], 3),
                     peak_rss_mb=round(r["peak_rss_mb"], 1),
                     baseline_rss_mb=round(r["baseline_rss_mb"], 1), reps=1,
                     threads=args.threads)

    if want("layer_memory"):
        # One layer, N=65536, I=O=64, G=20, k=3: efficient-kan materialises the
        # N x I x (G+2k) recursion and the N x I(G+k) basis, which dominates the peak.
        widths, batch, grid = [64, 64], 65536, 20
        # One repetition: a single forward takes tens of seconds on one core.
        r = run_child(args, "layer_forward", widths, batch, "f64", None, 1, grid)
        emit(bench="layer_forward_memory", widths=widths, batch=batch, dtype="f64",
             grid_size=grid, spline_order=K, median_ms=round(r["median_ms"], 3),
             gflops_dense_equiv=round(r["gflops_dense_equiv"], 3),
             peak_rss_mb=round(r["peak_rss_mb"], 1),
             baseline_rss_mb=round(r["baseline_rss_mb"], 1),
             reps=1, threads=args.threads)


if __name__ == "__main__":
    main()
