#!/usr/bin/env bash
# Benchmarks of the CPU target, in one run; prints one JSON object per line on
# stdout (progress goes to stderr) and ends with a {"summary": ...} object.
#
#   bench/run.sh [--quick] [--build-dir DIR] [--work-dir DIR] [--no-peer] [--no-build]
#                [--tile-rows R] [--limits-only] [--blas-core NAME]
#
# --no-build uses the binaries already in DIR as they are.
# --tile-rows R is passed to every kan-translate call (default: the target's).
# DIR is a configured build of this repository (default: <repo>/build); the
# script builds the kan-translate and kanrt targets there if needed. Steps:
#   1. bench/make_model.py + kan-translate --target=cpu write the models
#      (forward, and train steps: ternary density 2e-3 / fg normal, n = 1, 8, 32,
#      and ternary n = 128 for [784,64,10]) into WORK/models/<name>;
#   2. the bench/ CMake project compiles kan_bench_<name> (-std=c99 -O3
#      -march=native, libkanrt.a -lm -lz) and gemm_bench (OpenBLAS);
#   3. the machine's limits: bench/cpu_peak (clock, vector width, FMA units:
#      the core's peak GFLOP/s) and the best single-core OpenBLAS: every
#      OPENBLAS_CORETYPE the CPU supports (Debian's OpenBLAS is DYNAMIC_ARCH and
#      may pick slow kernels for a CPU it does not know) timed on the model GEMMs
#      and a 1024^3 one (GFLOP/s on process CPU time); the fastest per dtype is
#      used for every later OpenBLAS
#      reference (the f64 winner for the PyTorch peer, which links the same
#      libblas.so.3). "default" is OpenBLAS's own choice (OPENBLAS_CORETYPE
#      unset; a value in the caller's environment is recorded, not used).
#      --blas-core NAME skips the search and uses NAME;
#      --limits-only stops after this step;
#   4. timings: forward and train steps of [64,64,64] x 1024 and [784,64,10] x 256
#      (f64, f32), the dense-equivalent GEMMs with OpenBLAS (single thread) and
#      kan_gemm_nt, peak RSS of a training step and of the N=65536, G=20 layer
#      forward (each in a fresh process);
#      then (4b) the emitted row tiles on 1 and 2 OpenMP threads (forward, ternary
#      n = 32 steps, kan-train's n = 128 batch 128 step) and the batch-size curve
#      of [64,64,64] (N = 64 ... 65536; forward f64/f32 and ternary n = 8 step);
#   5. the PyTorch peer (bench/torch/peer_bench.py with /usr/bin/python3, then
#      bench/peer_cputime.py for CPU-time medians; {"skipped": ...} without torch);
#   6. bench/summarize.py: ratios against the peer, the best OpenBLAS and the peak.
# All records are also kept in WORK/results.jsonl.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build="$repo/build"
work=""
quick=0
peer=1
tile_opts=""
rebuild=1
limits_only=0
blas_core=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=1 ;;
    --build-dir) build=$(cd "$2" && pwd); shift ;;
    --work-dir) work="$2"; shift ;;
    --no-peer) peer=0 ;;
    --no-build) rebuild=0 ;;
    --tile-rows) tile_opts="--tile-rows $2"; shift ;;
    --limits-only) limits_only=1 ;;
    --blas-core) blas_core="$2"; shift ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | grep '^#'; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
work=${work:-$build/bench-work}
mkdir -p "$work"
work=$(cd "$work" && pwd)
log() { echo "[bench] $*" >&2; }

if [[ $quick == 1 ]]; then reps=5; else reps=11; fi
python=${PYTHON:-python3}
peer_python=${PEER_PYTHON:-/usr/bin/python3}
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
ambient_core=${OPENBLAS_CORETYPE:-}
unset OPENBLAS_CORETYPE

# --- 1. tools ------------------------------------------------------------------
translate="$build/bin/kan-translate"
rtlib="$build/runtime/libkanrt.a"
if [[ $rebuild == 1 && -f "$build/CMakeCache.txt" ]]; then
  log "building kan-translate and kanrt in $build"
  if ! cmake --build "$build" --target kan-translate kanrt >"$work/build.log" 2>&1; then
    log "build failed (see $work/build.log); using the existing binaries if any"
  fi
fi
for f in "$translate" "$rtlib"; do
  [[ -e "$f" ]] || { log "missing $f: configure and build first:"; \
    log "  cmake -S $repo -B $build -G Ninja -DCMAKE_BUILD_TYPE=Release && ninja -C $build kan-translate kanrt"; exit 1; }
done

# --- 2. models -----------------------------------------------------------------
# name|widths|batch|dtype|G|translate options
models=()
for dt in f64 f32; do
  for shape in "64,64,64|1024|w64" "784,64,10|256|w784"; do
    IFS='|' read -r widths batch tag <<<"$shape"
    models+=("${tag}_${dt}_fwd|$widths|$batch|$dt|5|")
    for n in 1 8 32; do
      models+=("${tag}_${dt}_ternary_n$n|$widths|$batch|$dt|5|--train-step --rule ternary --n $n --density 2e-3 --lr 3e-3")
      models+=("${tag}_${dt}_fg_n$n|$widths|$batch|$dt|5|--train-step --rule fg --dist normal --n $n --lr 3e-3")
    done
  done
done
models+=("w784_f64_ternary_n128|784,64,10|256|f64|5|--train-step --rule ternary --n 128 --density 2e-3 --lr 3e-3")
models+=("layer64_g20_f64_fwd|64,64|65536|f64|20|")
[[ $limits_only == 1 ]] && models=()
# Also built with OpenMP (kan_bench_omp_<name>) for the thread scaling and the
# batch-size curve.
omp_models=(w64_f64_fwd w784_f64_fwd w64_f32_fwd w784_f32_fwd w64_f64_ternary_n8
            w64_f64_ternary_n32 w784_f64_ternary_n32 w784_f64_ternary_n128)
[[ $limits_only == 1 ]] && omp_models=()

mkdir -p "$work/models"
cmake_models=()
log "emitting ${#models[@]} models with kan-translate"
for m in ${models[@]+"${models[@]}"}; do
  IFS='|' read -r name widths batch dt G opts <<<"$m"
  d="$work/models/$name"
  mkdir -p "$d"
  "$python" "$here/make_model.py" --widths "$widths" --grid-size "$G" --dtype "$dt" -o "$d/model.mlir"
  # shellcheck disable=SC2086
  "$translate" --target=cpu -o "$d" "$d/model.mlir" $opts $tile_opts
  cmake_models+=("$name=$d")
done

log "compiling (bench/CMakeLists.txt -> $work/cmake)"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S "$here" -B "$work/cmake" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DKAN_BENCH_RUNTIME_LIB="$rtlib" "-DKAN_BENCH_MODELS=$(IFS=';'; echo "${cmake_models[*]:-}")" \
  "-DKAN_BENCH_OMP_MODELS=$(IFS=';'; echo "${omp_models[*]:-}")" \
  >"$work/cmake.log" 2>&1 || { cat "$work/cmake.log" >&2; exit 1; }
cmake --build "$work/cmake" -j 2 >>"$work/cmake.log" 2>&1 || { tail -30 "$work/cmake.log" >&2; exit 1; }

results="$work/results.jsonl"
: >"$results"
emit() { tee -a "$results"; }
{
  echo "{\"machine\": {\"cpu\": \"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')\", \"cores\": $(getconf _NPROCESSORS_ONLN), \"mem_gb\": $(awk '/MemTotal/ {printf "%.1f", $2/1048576}' /proc/meminfo), \"cc\": \"$(cc --version | head -1)\", \"loadavg\": \"$(cut -d' ' -f1-3 /proc/loadavg)\", \"date\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\", \"commit\": \"$(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)\", \"quick\": $([[ $quick == 1 ]] && echo true || echo false), \"translate_options\": \"$tile_opts\"}}"
} | emit

kb() { "$work/cmake/kan_bench_$1" "${@:2}"; }
# Load of the (shared) machine when a section starts: other jobs inflate wall times.
mark() { echo "{\"section\": \"$1\", \"loadavg\": \"$(cut -d' ' -f1-3 /proc/loadavg)\", \"time\": \"$(date -u +%H:%M:%S)\"}" | emit; }

# --- 3. the machine's limits ---------------------------------------------------------
mark limits
log "CPU peak (bench/cpu_peak)"
if [[ -x "$work/cmake/cpu_peak" ]]; then
  "$work/cmake/cpu_peak" | emit
else
  echo '{"skipped": "cpu_peak: not built (x86-64 only)"}' | emit
fi

# OpenBLAS core types and the CPU flags their kernels need (a forced core type
# is not checked by OpenBLAS: AVX-512 kernels on a CPU without them would fault).
cpu_flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
has_flags() { local f; for f in "$@"; do [[ $cpu_flags == *" $f "* ]] || return 1; done; }
core_candidates() {
  has_flags pni && echo Prescott
  has_flags sse4_2 && echo Nehalem
  has_flags avx && echo Sandybridge
  has_flags avx2 fma && echo Haswell Zen
  has_flags avx512f avx512cd avx512bw avx512dq avx512vl && echo SkylakeX
  has_flags avx512f avx512cd avx512bw avx512dq avx512vl avx512_bf16 && echo Cooperlake
  has_flags avx512f avx512cd avx512bw avx512dq avx512vl avx512_bf16 avx512_fp16 amx_bf16 amx_tile \
    && echo SapphireRapids
  return 0
}
declare -A blas_best=()
echo "{\"bench\": \"blas_env\", \"ambient_openblas_coretype\": \"$ambient_core\", \"openblas_l2_size\": \"${OPENBLAS_L2_SIZE:-}\"}" | emit
if [[ -n "$blas_core" ]]; then
  log "--blas-core $blas_core: no core-type search"
  blas_best[f64]=$blas_core blas_best[f32]=$blas_core
  for dt in f64 f32; do
    echo "{\"bench\": \"blas_best\", \"dtype\": \"$dt\", \"core\": \"$blas_core\", \"chosen_by\": \"--blas-core\"}" | emit
  done
elif [[ -x "$work/cmake/gemm_bench" ]]; then
  # shellcheck disable=SC2207
  cores=(default $(core_candidates))
  log "OpenBLAS core types: ${cores[*]} (2 interleaved rounds)"
  probe="$work/blas_probe.jsonl"
  : >"$probe"
  for round in 1 2; do
    for c in "${cores[@]}"; do
      for dt in f64 f32; do
        for args in "--widths 64,64,64 --batch 1024" "--widths 784,64,10 --batch 256" \
                    "--shape 1024,1024,1024 --bench gemm_square"; do
          # shellcheck disable=SC2086
          if [[ $c == default ]]; then
            "$work/cmake/gemm_bench" --impl openblas --dtype $dt $args --reps "$reps" || true
          else
            OPENBLAS_CORETYPE=$c "$work/cmake/gemm_bench" --impl openblas --dtype $dt $args \
              --reps "$reps" || true
          fi
        done | sed "s/}\$/, \"requested_core\": \"$c\", \"round\": $round}/" >>"$probe"
      done
    done
  done
  # One record per dtype: the winner on the model GEMMs (geometric mean of their
  # GFLOP/s on CPU time, best round), every candidate's figures, and OpenBLAS's
  # own choice.
  "$python" - "$probe" <<'PY' | emit
import json, math, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
for dt in ("f64", "f32"):
    cand = {}
    for r in recs:
        if r["dtype"] != dt:
            continue
        req = r["requested_core"]
        # A forced name OpenBLAS did not take (unknown to this build) is dropped.
        if req != "default" and r["blas_core"].lower() != req.lower():
            continue
        name = "gemm_square" if r["bench"] == "gemm_square" else tuple(r["widths"])
        c = cand.setdefault(req, {"core": r["blas_core"], "gf": {}})
        # On process CPU time: time other jobs take from this core is not
        # counted (on a loaded machine wall-clock GFLOP/s rank by luck).
        gf = r["gflops_dense_equiv"] * r["median_ms"] / r["median_cpu_ms"]
        c["gf"][name] = max(c["gf"].get(name, 0), round(gf, 2))
    def models(c):
        xs = [v for k, v in c["gf"].items() if k != "gemm_square"]
        return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else 0
    forced = {k: v for k, v in cand.items() if k != "default"}
    best = max(forced or cand, key=lambda k: models(cand[k]))
    out = {"bench": "blas_best", "dtype": dt, "core": cand[best]["core"],
           "chosen_by": "search", "default_core": cand.get("default", {}).get("core"),
           "gflops_models_geomean": round(models(cand[best]), 2),
           "gflops_square_1024": cand[best]["gf"].get("gemm_square"),
           "candidates": {k: {"core": v["core"], "gflops_models_geomean": round(models(v), 2),
                              "gflops_square_1024": v["gf"].get("gemm_square")}
                          for k, v in cand.items()}}
    print(json.dumps(out))
PY
  for dt in f64 f32; do
    blas_best[$dt]=$("$python" -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l) if l.startswith("{") else {}
    if r.get("bench") == "blas_best" and r.get("dtype") == sys.argv[2]: print(r["core"])' \
      "$results" "$dt" | tail -1)
  done
  log "best OpenBLAS core: f64 ${blas_best[f64]}, f32 ${blas_best[f32]}"
fi
# gemm_bench with OpenBLAS on its best core type for the dtype.
blas_bench() {
  local dt=$1; shift
  if [[ -n "${blas_best[$dt]:-}" ]]; then
    OPENBLAS_CORETYPE=${blas_best[$dt]} "$work/cmake/gemm_bench" --impl openblas --dtype "$dt" "$@"
  else
    "$work/cmake/gemm_bench" --impl openblas --dtype "$dt" "$@"
  fi
}
# A second cpu_peak at the end: a job on the other hardware thread of the host
# core lowers one measurement; summarize.py takes the highest.
peak_again() { [[ -x "$work/cmake/cpu_peak" ]] && "$work/cmake/cpu_peak" | emit || true; }
if [[ $limits_only == 1 ]]; then
  peak_again
  mark end
  "$python" "$here/summarize.py" "$results" | emit
  log "done (--limits-only); records in $results"
  exit 0
fi

# --- 4. ours: forward, train steps, GEMM references -------------------------------
log "forward and train steps (median of $reps)"
mark ours
for dt in f64 f32; do
  for shape in "64,64,64|1024|w64" "784,64,10|256|w784"; do
    IFS='|' read -r widths batch tag <<<"$shape"
    kb "${tag}_${dt}_fwd" --mode forward --bench forward --widths "$widths" --batch "$batch" --reps "$reps" | emit
    for n in 1 8 32; do
      kb "${tag}_${dt}_ternary_n$n" --mode train --bench train_step --rule ternary --density 2e-3 \
        --widths "$widths" --batch "$batch" --reps "$reps" | emit
      kb "${tag}_${dt}_fg_n$n" --mode train --bench train_step --rule fg \
        --widths "$widths" --batch "$batch" --reps "$reps" | emit
    done
    blas_bench $dt --widths "$widths" --batch "$batch" --reps "$reps" | emit
    "$work/cmake/gemm_bench" --impl kanrt --dtype $dt --widths "$widths" --batch "$batch" --reps "$reps" | emit
  done
done

log "step cost against n (ternary, [784,64,10] x 256, f64)"
kb w784_f64_ternary_n128 --mode train --bench train_step --rule ternary --density 2e-3 \
  --widths 784,64,10 --batch 256 --reps "$reps" | emit
# The per-direction GEMM of the second layer (A'_d W^T, K = 64*(5+3+1)), as emitted
# (64-row tiles) and as one call.
for shp in 64,10,576 256,10,576; do
  blas_bench f64 --shape $shp --reps $((reps * 20)) --bench gemm_tangent_small | emit
  "$work/cmake/gemm_bench" --impl kanrt --dtype f64 --shape $shp --reps $((reps * 20)) \
    --bench gemm_tangent_small | emit
done

# --- 4b. threads and batch size ----------------------------------------------------
# The emitted row-tile loops on 1 and 2 OpenMP threads (wall clock; interleaved
# so a burst of load hits both), then forward and step time against the batch.
kbo() { OMP_NUM_THREADS=$1 "$work/cmake/kan_bench_omp_$2" "${@:3}"; }
mark threads
log "thread scaling (1 and 2 threads)"
for shape in "64,64,64|1024|w64" "784,64,10|256|w784"; do
  IFS='|' read -r widths batch tag <<<"$shape"
  for t in 1 2; do
    for dt in f64 f32; do
      kbo $t "${tag}_${dt}_fwd" --mode forward --bench forward_threads --widths "$widths" \
        --batch "$batch" --reps "$reps" | emit
    done
    kbo $t "${tag}_f64_ternary_n32" --mode train --bench train_step_threads --rule ternary \
      --density 2e-3 --widths "$widths" --batch "$batch" --reps "$reps" | emit
  done
done
# kan-train's defaults: [784,64,10], batch 128, n = 128.
for t in 1 2; do
  kbo $t w784_f64_ternary_n128 --mode train --bench train_step_threads --rule ternary \
    --density 2e-3 --widths 784,64,10 --batch 128 --reps "$reps" | emit
done
mark batch
log "batch-size curve ([64,64,64]: forward f64/f32, ternary n = 8 step f64; 1 and 2 threads)"
if [[ $quick == 1 ]]; then batches=(64 1024 16384); else batches=(64 256 1024 4096 16384 65536); fi
for nb in "${batches[@]}"; do
  r=$(( reps * 1024 / nb )); (( r < 3 )) && r=3; (( r > 4 * reps )) && r=$(( 4 * reps ))
  for t in 1 2; do
    for dt in f64 f32; do
      kbo $t "w64_${dt}_fwd" --mode forward --bench forward_batch --widths 64,64,64 \
        --batch "$nb" --reps "$r" | emit
    done
    kbo $t w64_f64_ternary_n8 --mode train --bench train_step_batch --rule ternary \
      --density 2e-3 --widths 64,64,64 --batch "$nb" --reps "$r" | emit
  done
done

log "peak memory (fresh process each)"
for shape in "64,64,64|1024|w64" "784,64,10|256|w784"; do
  IFS='|' read -r widths batch tag <<<"$shape"
  for rule in ternary fg; do
    kb "${tag}_f64_${rule}_n32" --mode train --bench train_memory --rule $rule --memory \
      --widths "$widths" --batch "$batch" | emit
  done
  kb "${tag}_f64_fwd" --mode forward --bench forward_memory --memory --widths "$widths" --batch "$batch" | emit
done
kb layer64_g20_f64_fwd --mode forward --bench layer_forward_memory --memory \
  --widths 64,64 --batch 65536 --grid-size 20 | emit

# --- 5. the PyTorch peer --------------------------------------------------------
if [[ $peer == 1 ]]; then
  if [[ -x "$peer_python" ]]; then
    mark peer
    log "PyTorch peer ($peer_python bench/torch/peer_bench.py$([[ $quick == 1 ]] && echo ' --quick'))"
    peer_args=()
    [[ $quick == 1 ]] && peer_args+=(--quick)
    # The peer's torch links libblas.so.3 (OpenBLAS): the same best core type.
    peer_env=()
    [[ -n "${blas_best[f64]:-}" ]] && peer_env=(env "OPENBLAS_CORETYPE=${blas_best[f64]}")
    echo "{\"bench\": \"peer_blas\", \"core\": \"${blas_best[f64]:-default}\"}" | emit
    "${peer_env[@]}" "$peer_python" "$here/torch/peer_bench.py" "${peer_args[@]}" | emit || log "peer_bench.py failed"
    log "PyTorch peer, CPU time (bench/peer_cputime.py)"
    "${peer_env[@]}" "$peer_python" "$here/peer_cputime.py" "${peer_args[@]}" | emit || log "peer_cputime.py failed"
  else
    echo "{\"skipped\": \"peer: $peer_python not found\"}" | emit
  fi
else
  echo '{"skipped": "peer: --no-peer"}' | emit
fi

# --- 6. summary -------------------------------------------------------------------
peak_again
mark end
"$python" "$here/summarize.py" "$results" | emit
log "done; records in $results"
