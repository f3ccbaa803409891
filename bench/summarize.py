#!/usr/bin/env python3
"""Reads the JSON lines of bench/run.sh and prints one {"summary": ...} object.

    summarize.py results.jsonl [--pretty | --markdown]

--markdown prints the tables of docs/BENCHMARKS.md instead of the JSON object.

Ratios (wall-clock medians; *_cpu: process CPU time, peer from bench/peer_cputime.py):
  forward_speedup_vs_peer          peer forward ms / ours, same widths, batch, dtype
  forward_fraction_of_blas         ours dense-equivalent GFLOP/s / OpenBLAS ?gemm's on the
                                   same GEMM shapes (also on process CPU time: *_cpu), OpenBLAS
                                   on the best core type run.sh found for the machine
  forward_fraction_of_peak         ours dense-equivalent GFLOP/s / the core's peak (cpu_peak:
                                   measured clock x vector lanes x 2 x FMA units); *_cpu on
                                   process CPU time
  kanrt_gemm_fraction_of_blas      OpenBLAS time / kan_gemm_nt time on the model GEMMs (*_cpu:
                                   process CPU time)
  train_step_per_direction_speedup peer noise_step ms / ours, same n (so also per direction)
  peak_train_memory_ratio          ours peak RSS of a step (ternary, n = 32, f64) / the peer's
                                   backprop step; *_above_baseline compares the growth over
                                   the RSS before the step (inputs and parameters in place)
Targets: forward >= 8x the peer and >= 60 % of dgemm; train step per direction >= 10x
the peer's; peak training memory <= 1/5 of backprop's; against the best OpenBLAS: f64
forward >= 1.2x dgemm, f32 forward >= 1.0x sgemm (dense-equivalent), kan_gemm_nt >= 0.9x.
"""
import json
import math
import sys


def load(path):
    recs = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                try:
                    recs.append(json.loads(line))
                except json.JSONDecodeError:
                    pass
    return recs


def key(r):
    return (tuple(r.get("widths") or ()), r.get("batch"), r.get("dtype"))


def geomean(xs):
    xs = [x for x in xs if x and x > 0]
    return round(math.exp(sum(map(math.log, xs)) / len(xs)), 3) if xs else None


def stats(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return None
    return {"min": round(min(xs), 3), "geomean": geomean(xs), "max": round(max(xs), 3)}


def rnd(x, d=3):
    return None if x is None else round(x, d)


def main():
    recs = load(sys.argv[1])
    pretty = "--pretty" in sys.argv
    ours = [r for r in recs if r.get("impl") == "kan-cpu"]
    peer = [r for r in recs if r.get("impl") == "torch-efficient-kan"]
    skipped = [r["skipped"] for r in recs if "skipped" in r]

    def find(rs, **kw):
        for r in rs:
            if all((key(r) if k == "key" else r.get(k)) == v for k, v in kw.items()):
                return r
        return None

    out = {"notes": skipped}

    # The machine's limits: the highest cpu_peak record (other jobs only lower
    # a measurement), OpenBLAS's best core type per dtype.
    peaks = [r for r in recs if r.get("bench") == "cpu_peak"]
    peak = max(peaks, key=lambda r: r["peak_gflops_f64"]) if peaks else None
    best = {r["dtype"]: r for r in recs if r.get("bench") == "blas_best" and r.get("dtype")}
    limits = {}
    if peak:
        limits.update({k: peak[k] for k in ("cpu", "isa", "clock_ghz", "vector_bits",
                                            "fma_units", "peak_gflops_f64", "peak_gflops_f32")})
    for dt, b in best.items():
        limits[f"blas_{dt}"] = {k: b.get(k) for k in ("core", "chosen_by", "default_core",
                                                       "gflops_models_geomean", "gflops_square_1024")}
        pk = peak and peak[f"peak_gflops_{dt}"]
        if pk and b.get("gflops_square_1024"):
            limits[f"blas_{dt}"]["square_fraction_of_peak"] = rnd(b["gflops_square_1024"] / pk)
    env = find(recs, bench="blas_env")
    if env:
        limits["ambient_openblas_coretype"] = env.get("ambient_openblas_coretype")
    pb = find(recs, bench="peer_blas")
    if pb:
        limits["peer_blas_core"] = pb.get("core")
    out["limits"] = limits

    def peak_of(dt):
        return peak and peak[f"peak_gflops_{dt}"]

    # Forward.
    fwd = []
    for r in ours:
        if r["bench"] != "forward":
            continue
        p = find(peer, bench="forward", key=key(r), timing=None)
        pc = find(peer, bench="forward", key=key(r), timing="cputime")
        blas = find(recs, bench="gemm_dense_equiv", key=key(r),
                    impl="openblas-dgemm" if r["dtype"] == "f64" else "openblas-sgemm")
        rt = find(recs, bench="gemm_dense_equiv", key=key(r), impl="kanrt-gemm") or \
            find(recs, bench="gemm_dense_equiv", key=key(r), impl="kanrt-gemm-cblas")
        row = {"widths": r["widths"], "batch": r["batch"], "dtype": r["dtype"],
               "ours_ms": r["median_ms"], "ours_cpu_ms": r.get("median_cpu_ms"),
               "ours_gflops": r["gflops_dense_equiv"],
               "peer_ms": p and p["median_ms"],
               "speedup_vs_peer": rnd(p["median_ms"] / r["median_ms"]) if p else None,
               "peer_cpu_ms": pc and pc["median_cpu_ms"],
               "speedup_vs_peer_cpu": rnd(pc["median_cpu_ms"] / r["median_cpu_ms"])
               if pc and r.get("median_cpu_ms") else None,
               "blas_ms": blas and blas["median_ms"],
               "blas_gflops": blas and blas["gflops_dense_equiv"],
               "fraction_of_blas": rnd(blas["median_ms"] / r["median_ms"]) if blas else None,
               "fraction_of_blas_cpu": rnd(blas["median_cpu_ms"] / r["median_cpu_ms"])
               if blas and r.get("median_cpu_ms") else None,
               "blas_core": blas and blas.get("blas_core"),
               "fraction_of_peak": rnd(r["gflops_dense_equiv"] / peak_of(r["dtype"]))
               if peak_of(r["dtype"]) else None,
               "fraction_of_peak_cpu": rnd(r["gflops_dense_equiv"] * r["median_ms"] /
                                           r["median_cpu_ms"] / peak_of(r["dtype"]))
               if peak_of(r["dtype"]) and r.get("median_cpu_ms") else None,
               "blas_fraction_of_peak": rnd(blas["gflops_dense_equiv"] / peak_of(r["dtype"]))
               if blas and peak_of(r["dtype"]) else None,
               "kanrt_gemm_ms": rt and rt["median_ms"],
               "kanrt_gemm_kernels": rt and rt.get("kernels"),
               "kanrt_gemm_fraction_of_blas": rnd(blas["median_ms"] / rt["median_ms"])
               if blas and rt else None,
               "kanrt_gemm_fraction_of_blas_cpu": rnd(blas["median_cpu_ms"] / rt["median_cpu_ms"])
               if blas and rt and rt.get("median_cpu_ms") else None,
               "kanrt_gemm_fraction_of_peak": rnd(rt["gflops_dense_equiv"] / peak_of(r["dtype"]))
               if rt and peak_of(r["dtype"]) else None}
        fwd.append(row)
    out["forward"] = fwd

    # Train steps.
    train = []
    for r in ours:
        if r["bench"] != "train_step":
            continue
        p = find(peer, bench="noise_step", key=key(r), ndir=r["ndir"], timing=None)
        pc = find(peer, bench="noise_step", key=key(r), ndir=r["ndir"], timing="cputime")
        n = r["ndir"]
        train.append({"widths": r["widths"], "batch": r["batch"], "dtype": r["dtype"],
                      "rule": r.get("rule"), "ndir": n, "ours_ms": r["median_ms"],
                      "ours_cpu_ms": r.get("median_cpu_ms"),
                      "ours_ms_per_dir": rnd(r["median_ms"] / n, 4),
                      "peer_ms_per_dir": rnd(p["median_ms"] / n, 4) if p else None,
                      "speedup_per_dir_vs_peer": rnd(p["median_ms"] / r["median_ms"]) if p else None,
                      "peer_cpu_ms_per_dir": rnd(pc["median_cpu_ms"] / n, 4) if pc else None,
                      "speedup_per_dir_vs_peer_cpu": rnd(pc["median_cpu_ms"] / r["median_cpu_ms"])
                      if pc and r.get("median_cpu_ms") else None})
    out["train_step"] = train

    # Peak memory of a training step.
    mem = []
    for r in ours:
        if r["bench"] != "train_memory":
            continue
        bp = find(peer, bench="train_memory_backprop", key=key(r))
        ns = find(peer, bench="train_memory_noise_step", key=key(r))
        row = {"widths": r["widths"], "batch": r["batch"], "dtype": r["dtype"],
               "rule": r.get("rule"), "ndir": r["ndir"],
               "ours_peak_mb": r["peak_rss_mb"], "ours_baseline_mb": r["baseline_rss_mb"],
               "data_mb": r.get("data_mb"),
               "peer_backprop_peak_mb": bp and bp["peak_rss_mb"],
               "peer_backprop_baseline_mb": bp and bp.get("baseline_rss_mb"),
               "peer_noise_step_peak_mb": ns and ns["peak_rss_mb"]}
        if bp:
            row["ratio_vs_backprop"] = rnd(r["peak_rss_mb"] / bp["peak_rss_mb"])
            grow = bp["peak_rss_mb"] - (bp.get("baseline_rss_mb") or 0)
            if grow > 0:
                row["ratio_vs_backprop_above_baseline"] = rnd(
                    (r["peak_rss_mb"] - r["baseline_rss_mb"]) / grow)
        mem.append(row)
    out["train_memory"] = mem

    # The big-layer memory benchmark.
    lm = find(ours, bench="layer_forward_memory")
    if lm:
        plm = find(peer, bench="layer_forward_memory")
        n, i, o, g, k = lm["batch"], lm["widths"][0], lm["widths"][-1], lm["grid_size"], lm["spline_order"]
        out["layer_forward_memory"] = {
            "shape": {"N": n, "I": i, "O": o, "G": g, "k": k, "dtype": lm["dtype"]},
            "ours_peak_mb": lm["peak_rss_mb"], "ours_baseline_mb": lm["baseline_rss_mb"],
            "inputs_outputs_weights_mb": lm["data_mb"], "ours_ms": lm["median_ms"],
            "peer_materialised_A_mb": round(n * i * (g + k + 1) * 8 / 2**20, 1),
            "peer_peak_mb": plm and plm["peak_rss_mb"],
            "peer_baseline_mb": plm and plm.get("baseline_rss_mb"),
            "peer_ms": plm and plm["median_ms"],
            "peak_ratio_vs_peer": rnd(lm["peak_rss_mb"] / plm["peak_rss_mb"]) if plm else None}

    # Cost of a step against n (sparse ternary, [784,64,10] x 256, f64).
    w = ((784, 64, 10), 256, "f64")
    f = find(ours, bench="forward", key=w)
    small = find(recs, bench="gemm_tangent_small", impl="kanrt-gemm", shape=[64, 10, 576]) or \
        find(recs, bench="gemm_tangent_small", impl="kanrt-gemm-cblas", shape=[64, 10, 576])
    steps = sorted((r for r in ours if r["bench"] == "train_step" and key(r) == w
                    and r.get("rule") == "ternary"), key=lambda r: r["ndir"])
    if f and steps:
        tiles = math.ceil(256 / 64)
        per_dir_gemm = small["median_ms"] * tiles if small else None
        rows = []
        for r in steps:
            pred = f["median_ms"] + r["ndir"] * per_dir_gemm if per_dir_gemm else None
            rows.append({"ndir": r["ndir"], "step_ms": r["median_ms"],
                         "step_cpu_ms": r.get("median_cpu_ms"),
                         "step_over_forward": rnd(r["median_ms"] / f["median_ms"]),
                         "forward_plus_n_gemms_ms": rnd(pred),
                         "step_over_forward_plus_n_gemms": rnd(r["median_ms"] / pred) if pred else None})
        xs = [r["ndir"] for r in steps]
        for field in ("median_ms", "median_cpu_ms"):
            ys = [r.get(field) for r in steps]
            if None in ys or len(xs) < 2:
                continue
            mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
            slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
            out.setdefault("step_vs_n_fit", {})[field] = {
                "ms_per_direction": rnd(slope, 4), "intercept_ms": rnd(my - slope * mx)}
        out["step_vs_n"] = {"widths": list(w[0]), "batch": 256, "dtype": "f64",
                            "forward_ms": f["median_ms"], "forward_cpu_ms": f.get("median_cpu_ms"),
                            "small_gemm_per_direction_ms": rnd(per_dir_gemm, 4),
                            "small_gemm": "4 x kan_gemm_nt 64x10x576 (layer 2, A'_d W^T)",
                            "rows": rows}

    # Thread scaling (the emitted row tiles on 1 and 2 OpenMP threads, wall).
    thr = []
    for r in recs:
        if r.get("impl") != "kan-cpu" or r.get("bench") not in (
                "forward_threads", "train_step_threads") or r.get("threads") != 1:
            continue
        r2 = find(ours, bench=r["bench"], key=key(r), ndir=r.get("ndir"), threads=2)
        thr.append({"bench": r["bench"].replace("_threads", ""), "widths": r["widths"],
                    "batch": r["batch"], "dtype": r["dtype"], "ndir": r.get("ndir"),
                    "ms_1_thread": r["median_ms"], "ms_2_threads": r2 and r2["median_ms"],
                    "speedup_2_threads": rnd(r["median_ms"] / r2["median_ms"]) if r2 else None})
    out["thread_scaling"] = thr

    # Batch-size curve of [64,64,64].
    curve = []
    for r in recs:
        if r.get("impl") != "kan-cpu" or r.get("bench") not in (
                "forward_batch", "train_step_batch") or r.get("threads") != 1:
            continue
        r2 = find(ours, bench=r["bench"], key=key(r), ndir=r.get("ndir"), threads=2)
        curve.append({"bench": r["bench"].replace("_batch", ""), "widths": r["widths"],
                      "batch": r["batch"], "dtype": r["dtype"], "ndir": r.get("ndir"),
                      "ms_1_thread": r["median_ms"], "cpu_ms_1_thread": r.get("median_cpu_ms"),
                      "us_per_row_1_thread": rnd(1e3 * r["median_ms"] / r["batch"], 3),
                      "gflops_1_thread": r["gflops_dense_equiv"],
                      "gflops_cpu_1_thread": rnd(r["gflops_dense_equiv"] * r["median_ms"] /
                                                 r["median_cpu_ms"], 1)
                      if r.get("median_cpu_ms") else None,
                      "ms_2_threads": r2 and r2["median_ms"],
                      "gflops_2_threads": r2 and r2["gflops_dense_equiv"],
                      "speedup_2_threads": rnd(r["median_ms"] / r2["median_ms"]) if r2 else None})
    curve.sort(key=lambda c: (c["bench"], c["dtype"], c["batch"]))
    out["batch_curve"] = curve

    ratios = {
        "forward_speedup_vs_peer": stats([r["speedup_vs_peer"] for r in fwd]),
        "forward_speedup_vs_peer_cpu": stats([r["speedup_vs_peer_cpu"] for r in fwd]),
        "forward_fraction_of_blas": stats([r["fraction_of_blas"] for r in fwd]),
        "forward_fraction_of_blas_cpu": stats([r["fraction_of_blas_cpu"] for r in fwd]),
        "forward_fraction_of_blas_f64": stats([r["fraction_of_blas"] for r in fwd
                                               if r["dtype"] == "f64"]),
        "forward_fraction_of_blas_f32": stats([r["fraction_of_blas"] for r in fwd
                                               if r["dtype"] == "f32"]),
        "forward_fraction_of_peak": stats([r["fraction_of_peak"] for r in fwd]),
        "forward_fraction_of_peak_cpu": stats([r["fraction_of_peak_cpu"] for r in fwd]),
        "kanrt_gemm_fraction_of_blas": stats([r["kanrt_gemm_fraction_of_blas"] for r in fwd]),
        "kanrt_gemm_fraction_of_blas_cpu": stats([r["kanrt_gemm_fraction_of_blas_cpu"]
                                                  for r in fwd]),
        "kanrt_gemm_fraction_of_peak": stats([r["kanrt_gemm_fraction_of_peak"] for r in fwd]),
        "train_step_per_direction_speedup_vs_peer": stats(
            [r["speedup_per_dir_vs_peer"] for r in train if r["rule"] == "ternary"]),
        "train_step_per_direction_speedup_vs_peer_cpu": stats(
            [r["speedup_per_dir_vs_peer_cpu"] for r in train if r["rule"] == "ternary"]),
        "train_step_per_direction_speedup_vs_peer_fg": stats(
            [r["speedup_per_dir_vs_peer"] for r in train if r["rule"] == "fg"]),
        "peak_train_memory_ratio_vs_backprop": stats(
            [r.get("ratio_vs_backprop") for r in mem if r["rule"] == "ternary"]),
        "peak_train_memory_ratio_vs_backprop_above_baseline": stats(
            [r.get("ratio_vs_backprop_above_baseline") for r in mem if r["rule"] == "ternary"]),
        "two_thread_speedup": stats([r["speedup_2_threads"] for r in thr]),
    }
    out["ratios"] = ratios

    def meets(name, ok):
        s = ratios[name]
        return None if s is None else ok(s["min"])
    out["targets"] = {
        "forward_speedup_vs_peer >= 8": meets("forward_speedup_vs_peer", lambda v: v >= 8),
        "forward_fraction_of_blas >= 0.6": meets("forward_fraction_of_blas", lambda v: v >= 0.6),
        "train_step_per_direction_speedup_vs_peer >= 10": meets(
            "train_step_per_direction_speedup_vs_peer", lambda v: v >= 10),
        "forward_fraction_of_blas_f64 >= 1.2": meets("forward_fraction_of_blas_f64",
                                                      lambda v: v >= 1.2),
        "forward_fraction_of_blas_f32 >= 1.0": meets("forward_fraction_of_blas_f32",
                                                      lambda v: v >= 1.0),
        "kanrt_gemm_fraction_of_blas >= 0.9": meets("kanrt_gemm_fraction_of_blas",
                                                     lambda v: v >= 0.9),
        "two_thread_speedup >= 1.8": meets("two_thread_speedup", lambda v: v >= 1.8),
        "peak_train_memory_ratio_vs_backprop <= 0.2": meets(
            "peak_train_memory_ratio_vs_backprop", lambda v: v <= 0.2),
        "rule": "each target is checked on the worst case (min speedup / fraction, max memory ratio)",
    }
    if ratios["peak_train_memory_ratio_vs_backprop"]:
        out["targets"]["peak_train_memory_ratio_vs_backprop <= 0.2"] = \
            ratios["peak_train_memory_ratio_vs_backprop"]["max"] <= 0.2
    if "--markdown" in sys.argv:
        markdown(out, recs)
    else:
        print(json.dumps({"summary": out}, indent=2 if pretty else None))


def fmt(x, d=1):
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.{d}f}"
    return str(x)


def shape(r):
    return f"{r['widths']} x {r['batch']}"


def markdown(out, recs):
    p = print
    for r in recs:
        if "machine" in r:
            m = r["machine"]
            p(f"Machine: {m['cpu']}, {m['cores']} cores, {m['mem_gb']} GB; {m['cc']}; "
              f"commit {m['commit']}; {m['date']}; quick={m['quick']}"
              + (f"; {m['translate_options']}" if m.get('translate_options') else ""))
        if "section" in r:
            p(f"- load average at `{r['section']}` ({r['time']}): {r['loadavg']}")
    lim = out.get("limits") or {}
    if lim:
        p()
        p("The machine's limits (one core):")
        p()
        p("| | value |")
        p("|---|---|")
        if "peak_gflops_f64" in lim:
            p(f"| CPU | {lim['cpu']} ({lim['isa']}) |")
            p(f"| clock (measured, dependent adds) | {lim['clock_ghz']:.2f} GHz |")
            p(f"| vector width x FMA units (measured rate) | {lim['vector_bits']} bit x "
              f"{lim['fma_units']} |")
            p(f"| peak f64 / f32 | {lim['peak_gflops_f64']:.1f} / {lim['peak_gflops_f32']:.1f} GFLOP/s |")
        for dt, fn in (("f64", "dgemm"), ("f32", "sgemm")):
            b = lim.get(f"blas_{dt}")
            if b:
                p(f"| best OpenBLAS {fn} | core type {b['core']} ({b['chosen_by']}; OpenBLAS's own "
                  f"choice: {b.get('default_core') or '–'}): {fmt(b.get('gflops_models_geomean'))} "
                  f"GFLOP/s on the model GEMMs (geomean), {fmt(b.get('gflops_square_1024'))} on "
                  f"1024³ ({fmt(b.get('square_fraction_of_peak'), 2)} of peak) |")
        if lim.get("peer_blas_core"):
            p(f"| PyTorch peer's OpenBLAS core type | {lim['peer_blas_core']} |")
        if lim.get("ambient_openblas_coretype"):
            p(f"| OPENBLAS_CORETYPE in the caller's environment (not used) | "
              f"{lim['ambient_openblas_coretype']} |")
    p()
    p("Forward (medians, ms; GFLOP/s dense-equivalent):")
    p()
    p("| model | dtype | ours wall | ours CPU | peer wall | peer CPU | speedup vs peer (wall / CPU) | "
      "OpenBLAS GEMM | fraction of BLAS (wall / CPU) | fraction of peak (ours / BLAS) | kanrt GEMM "
      "(fraction of BLAS) |")
    p("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in out["forward"]:
        p(f"| {shape(r)} | {r['dtype']} | {fmt(r['ours_ms'], 2)} | {fmt(r['ours_cpu_ms'], 2)} | "
          f"{fmt(r['peer_ms'], 2)} | {fmt(r['peer_cpu_ms'], 2)} | {fmt(r['speedup_vs_peer'], 2)}x / "
          f"{fmt(r['speedup_vs_peer_cpu'], 2)}x | {fmt(r['blas_ms'], 2)} "
          f"({fmt(r['blas_gflops'])} GF/s) | {fmt(r['fraction_of_blas'], 2)} / "
          f"{fmt(r['fraction_of_blas_cpu'], 2)} | {fmt(r.get('fraction_of_peak'), 2)} / "
          f"{fmt(r.get('blas_fraction_of_peak'), 2)} | {fmt(r['kanrt_gemm_ms'], 2)} "
          f"({fmt(r.get('kanrt_gemm_fraction_of_blas'), 2)}) |")
    p()
    p("Training step (medians, ms; peer = forward-mode noise_step, ternary):")
    p()
    p("| model | dtype | rule | n | ours wall | ours CPU | ours wall / direction | "
      "peer wall / direction | peer CPU / direction | speedup per direction (wall / CPU) |")
    p("|---|---|---|---|---|---|---|---|---|---|")
    for r in out["train_step"]:
        p(f"| {shape(r)} | {r['dtype']} | {r['rule']} | {r['ndir']} | {fmt(r['ours_ms'], 2)} | "
          f"{fmt(r['ours_cpu_ms'], 2)} | {fmt(r['ours_ms_per_dir'], 2)} | "
          f"{fmt(r['peer_ms_per_dir'], 2)} | {fmt(r['peer_cpu_ms_per_dir'], 2)} | "
          f"{fmt(r['speedup_per_dir_vs_peer'], 2)}x / {fmt(r['speedup_per_dir_vs_peer_cpu'], 2)}x |")
    p()
    p("Peak resident memory of one training step (f64, n = 32, fresh process, VmHWM, MB):")
    p()
    p("| model | rule | ours peak | ours before step | peer backprop peak (before) | "
      "peer noise_step peak | ratio vs backprop | ratio above baseline |")
    p("|---|---|---|---|---|---|---|---|")
    for r in out["train_memory"]:
        p(f"| {shape(r)} | {r['rule']} | {fmt(r['ours_peak_mb'])} | {fmt(r['ours_baseline_mb'])} | "
          f"{fmt(r['peer_backprop_peak_mb'])} ({fmt(r['peer_backprop_baseline_mb'])}) | "
          f"{fmt(r['peer_noise_step_peak_mb'])} | {fmt(r.get('ratio_vs_backprop'), 3)} | "
          f"{fmt(r.get('ratio_vs_backprop_above_baseline'), 3)} |")
    lm = out.get("layer_forward_memory")
    if lm:
        p()
        sh = lm["shape"]
        p(f"One layer forward, N={sh['N']}, I={sh['I']}, O={sh['O']}, G={sh['G']}, k={sh['k']}, "
          f"{sh['dtype']} (MB):")
        p()
        p("| | peak RSS | RSS before the call | time (ms) |")
        p("|---|---|---|---|")
        p(f"| ours | {fmt(lm['ours_peak_mb'])} | {fmt(lm['ours_baseline_mb'])} | {fmt(lm['ours_ms'])} |")
        p(f"| inputs + outputs + weights | {fmt(lm['inputs_outputs_weights_mb'])} | | |")
        p(f"| peer | {fmt(lm['peer_peak_mb'])} | {fmt(lm['peer_baseline_mb'])} | {fmt(lm['peer_ms'])} |")
        p(f"| peer's A = [silu(x) \\| B(x)] alone | {fmt(lm['peer_materialised_A_mb'])} | | |")
    sv = out.get("step_vs_n")
    if sv:
        p()
        p(f"Step cost against n (ternary, density 2e-3, {sv['widths']} x {sv['batch']}, "
          f"{sv['dtype']}); forward {fmt(sv['forward_ms'], 2)} ms wall / "
          f"{fmt(sv['forward_cpu_ms'], 2)} ms CPU; per-direction small GEMM "
          f"({sv['small_gemm']}) {fmt(sv['small_gemm_per_direction_ms'], 3)} ms:")
        p()
        p("| n | step wall | step CPU | step / forward | forward + n GEMMs | step / (forward + n GEMMs) |")
        p("|---|---|---|---|---|---|")
        for r in sv["rows"]:
            p(f"| {r['ndir']} | {fmt(r['step_ms'], 2)} | {fmt(r['step_cpu_ms'], 2)} | "
              f"{fmt(r['step_over_forward'], 2)} | {fmt(r['forward_plus_n_gemms_ms'], 2)} | "
              f"{fmt(r['step_over_forward_plus_n_gemms'], 2)} |")
        fit = out.get("step_vs_n_fit", {})
        for k, v in fit.items():
            p(f"\nLeast-squares fit on {k}: {v['ms_per_direction']} ms per direction, "
              f"intercept {v['intercept_ms']} ms.")
    if out.get("thread_scaling"):
        p()
        p("One and two threads (the emitted row tiles on OpenMP threads; wall-clock medians, ms):")
        p()
        p("| bench | model | dtype | n | 1 thread | 2 threads | speedup |")
        p("|---|---|---|---|---|---|---|")
        for r in out["thread_scaling"]:
            p(f"| {r['bench']} | {shape(r)} | {r['dtype']} | {fmt(r['ndir'])} | "
              f"{fmt(r['ms_1_thread'], 2)} | {fmt(r['ms_2_threads'], 2)} | "
              f"{fmt(r['speedup_2_threads'], 2)}x |")
    if out.get("batch_curve"):
        p()
        p("Batch size ([64,64,64]; wall-clock medians; GFLOP/s dense-equivalent):")
        p()
        p("| bench | dtype | n | N | 1 thread ms (CPU ms) | µs / row | GFLOP/s (on CPU time) | "
          "2 threads ms | GFLOP/s | speedup |")
        p("|---|---|---|---|---|---|---|---|---|---|")
        for r in out["batch_curve"]:
            p(f"| {r['bench']} | {r['dtype']} | {fmt(r['ndir'])} | {r['batch']} | "
              f"{fmt(r['ms_1_thread'], 3)} ({fmt(r['cpu_ms_1_thread'], 3)}) | "
              f"{fmt(r['us_per_row_1_thread'], 2)} | {fmt(r['gflops_1_thread'])} "
              f"({fmt(r['gflops_cpu_1_thread'])}) | {fmt(r['ms_2_threads'], 3)} | "
              f"{fmt(r['gflops_2_threads'])} | {fmt(r['speedup_2_threads'], 2)}x |")
    p()
    p("Ratios (min / geomean / max over the rows above) and targets:")
    p()
    p("| ratio | min | geomean | max |")
    p("|---|---|---|---|")
    for k, v in out["ratios"].items():
        if v:
            p(f"| {k} | {v['min']} | {v['geomean']} | {v['max']} |")
    p()
    for k, v in out["targets"].items():
        if k != "rule":
            p(f"- {k}: {'met' if v else 'NOT met' if v is not None else 'not measured'}")


if __name__ == "__main__":
    main()
