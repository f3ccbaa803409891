#!/usr/bin/env bash
# One against two OpenMP threads with the binaries of a bench/run.sh work
# directory (kan_bench_omp_*), in R interleaved rounds, to rerun the thread
# scaling of run.sh at a quiet moment of a shared machine:
#
#   bench/thread_scaling.sh [--work-dir W] [--rounds R] [--reps N] [--passive]
#                           [--batches "64 256 ... 65536"]
#
# W defaults to <repo>/build/bench-work. Prints run.sh's records
# (bench forward_threads / train_step_threads, "threads", plus "round") and a
# last {"thread_scaling": [...]} line: per benchmark the median over rounds
# of the wall-clock medians with 1 and 2 threads and their ratio.
# --passive runs with OMP_WAIT_POLICY=passive GOMP_SPINCOUNT=0 (threads sleep
# at the barriers instead of spinning) and adds, from each thread's CPU time
# (kan_bench's thread_cpu_ms), "cpu_scaling_2_threads": the 1-thread CPU time
# per call over the busiest of the two threads' CPU time per call, i.e. the
# speedup the split of the work allows when both threads have a core (extra
# work, imbalance and cache effects count; waiting for a core does not). It is
# an estimate, not a wall-clock measurement, for a machine that is never idle.
# --batches adds run.sh's batch-size curve of [64,64,64] (forward f64/f32,
# ternary n = 8 step f64) at those batch sizes, 1 and 2 threads, to every round.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work="$here/../build/bench-work"
rounds=5
reps=11
batches=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --work-dir) work="$2"; shift ;;
    --rounds) rounds="$2"; shift ;;
    --reps) reps="$2"; shift ;;
    --batches) batches="$2"; shift ;;
    --passive) export OMP_WAIT_POLICY=passive GOMP_SPINCOUNT=0 ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | grep '^#'; exit 0 ;;
    *) echo "thread_scaling.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
bin="$work/cmake"
[[ -x "$bin/kan_bench_omp_w64_f64_fwd" ]] || {
  echo "thread_scaling.sh: no kan_bench_omp_* in $bin (run bench/run.sh first)" >&2; exit 1; }
export OPENBLAS_NUM_THREADS=1
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "{\"section\": \"thread_scaling\", \"omp_wait_policy\": \"${OMP_WAIT_POLICY:-}\", \"loadavg\": \"$(cut -d' ' -f1-3 /proc/loadavg)\", \"date\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}"
run() { # round threads model args...
  OMP_NUM_THREADS=$2 "$bin/kan_bench_omp_$3" "${@:4}" | sed "s/}\$/, \"round\": $1}/" | tee -a "$out"
}
for ((round = 1; round <= rounds; ++round)); do
  order=(1 2)
  (( round % 2 == 0 )) && order=(2 1)
  for t in "${order[@]}"; do
    for shape in "64,64,64|1024|w64" "784,64,10|256|w784"; do
      IFS='|' read -r widths batch tag <<<"$shape"
      for dt in f64 f32; do
        run $round $t "${tag}_${dt}_fwd" --mode forward --bench forward_threads \
          --widths "$widths" --batch "$batch" --reps "$reps"
      done
      run $round $t "${tag}_f64_ternary_n32" --mode train --bench train_step_threads \
        --rule ternary --density 2e-3 --widths "$widths" --batch "$batch" --reps "$reps"
    done
    run $round $t w784_f64_ternary_n128 --mode train --bench train_step_threads --rule ternary \
      --density 2e-3 --widths 784,64,10 --batch 128 --reps "$reps"
    for b in $batches; do
      r=$reps
      (( b >= 16384 )) && r=3
      for dt in f64 f32; do
        run $round $t "w64_${dt}_fwd" --mode forward --bench forward_batch --widths 64,64,64 \
          --batch "$b" --reps "$r"
      done
      run $round $t w64_f64_ternary_n8 --mode train --bench train_step_batch --rule ternary \
        --density 2e-3 --widths 64,64,64 --batch "$b" --reps "$r"
    done
  done
done
echo "{\"section\": \"end\", \"loadavg\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
python3 - "$out" "${OMP_WAIT_POLICY:-}" <<'PY'
import json, statistics, sys
g, c = {}, {}
passive = sys.argv[2] == "passive"
for line in open(sys.argv[1]):
    r = json.loads(line)
    k = (r["bench"], tuple(r["widths"]), r["batch"], r["dtype"], r.get("ndir"))
    g.setdefault(k, {1: [], 2: []})[r["threads"]].append(r["median_ms"])
    if r.get("thread_cpu_ms"):
        c.setdefault(k, {1: [], 2: []})[r["threads"]].append(r["thread_cpu_ms"][0])
rows = []
for k, v in g.items():
    if v[1] and v[2]:
        a, b = statistics.median(v[1]), statistics.median(v[2])
        row = {"bench": k[0], "widths": list(k[1]), "batch": k[2], "dtype": k[3],
               "ndir": k[4], "ms_1_thread": a, "ms_2_threads": b,
               "speedup_2_threads": round(a / b, 3)}
        t = c.get(k)
        if passive and t and t[1] and t[2]:
            a, b = statistics.median(t[1]), statistics.median(t[2])
            row.update({"cpu_ms_1_thread": a, "busiest_thread_cpu_ms_2_threads": b,
                        "cpu_scaling_2_threads": round(a / b, 3)})
        rows.append(row)
print(json.dumps({"thread_scaling": rows}))
PY
