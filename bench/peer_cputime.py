#!/usr/bin/python3
"""The PyTorch peer's forward and noise_step, timed in wall-clock AND process CPU time.

    /usr/bin/python3 bench/peer_cputime.py [--quick] [--reps R]

bench/torch/peer_bench.py reports wall-clock medians only; on a shared machine other
jobs inflate those. This script reuses peer_bench.py's own setup() and runner() (same
shapes, seeds, update rule, one torch thread) and adds the median of
time.process_time() per repetition, so bench/summarize.py can compare CPU time with
CPU time (field median_cpu_ms; impl "torch-efficient-kan", timing "cputime").
Prints {"skipped": ...} and exits 0 without torch.
"""
import argparse
import json
import os
import statistics
import sys
import time

try:
    import torch
except ImportError:
    print(json.dumps({"skipped": "peer_cputime: torch not available"}))
    sys.exit(0)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch"))
import peer_bench as pb  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reps", type=int)
    a = ap.parse_args()
    reps = a.reps or (3 if a.quick else 5)
    torch.set_num_threads(1)
    for bench in ("forward", "noise_step"):
        for widths, batch in pb.SHAPES:
            for dname, dtype in pb.DTYPES.items():
                for ndir in (pb.NDIRS if bench == "noise_step" else [None]):
                    params, x, labels = pb.setup(widths, batch, dtype)
                    fn = pb.runner(bench, params, x, labels, ndir)
                    fn()  # warm-up
                    wall, cpu = [], []
                    for _ in range(reps):
                        t0, c0 = time.perf_counter(), time.process_time()
                        fn()
                        wall.append((time.perf_counter() - t0) * 1e3)
                        cpu.append((time.process_time() - c0) * 1e3)
                    F = pb.dense_flops(widths, batch)
                    flops = F if bench == "forward" else F * (1 + 2 * ndir)
                    med = statistics.median(wall)
                    print(json.dumps({
                        "impl": pb.IMPL, "timing": "cputime", "bench": bench, "widths": widths,
                        "batch": batch, "dtype": dname, "ndir": ndir,
                        "median_ms": round(med, 3),
                        "median_cpu_ms": round(statistics.median(cpu), 3),
                        "gflops_dense_equiv": round(flops / med / 1e6, 3),
                        "peak_rss_mb": None, "reps": reps, "threads": 1}), flush=True)


if __name__ == "__main__":
    main()
