#!/usr/bin/env bash
# Benchmarks of the CPU target, in one run; prints one JSON object per line on
# stdout (progress goes to stderr) and ends with a {"summary": ...} object.
#
#   bench/run.sh [--quick] [--build-dir DIR] [--work-dir DIR] [--no-peer] [--no-build]
#                [--tile-rows R]
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
#   3. timings: forward and train steps of [64,64,64] x 1024 and [784,64,10] x 256
#      (f64, f32), the dense-equivalent GEMMs with OpenBLAS (single thread) and
#      kan_gemm_nt, peak RSS of a training step and of the N=65536, G=20 layer
#      forward (each in a fresh process);
#   4. the PyTorch peer (bench/torch/peer_bench.py with /usr/bin/python3, then
#      bench/peer_cputime.py for CPU-time medians; {"skipped": ...} without torch);
#   5. bench/summarize.py: ratios against the peer and OpenBLAS.
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
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=1 ;;
    --build-dir) build=$(cd "$2" && pwd); shift ;;
    --work-dir) work="$2"; shift ;;
    --no-peer) peer=0 ;;
    --no-build) rebuild=0 ;;
    --tile-rows) tile_opts="--tile-rows $2"; shift ;;
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

mkdir -p "$work/models"
cmake_models=()
log "emitting ${#models[@]} models with kan-translate"
for m in "${models[@]}"; do
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
  -DKAN_BENCH_RUNTIME_LIB="$rtlib" "-DKAN_BENCH_MODELS=$(IFS=';'; echo "${cmake_models[*]}")" \
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

# --- 3. ours: forward, train steps, GEMM references -------------------------------
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
    for impl in openblas kanrt; do
      "$work/cmake/gemm_bench" --impl $impl --dtype $dt --widths "$widths" --batch "$batch" --reps "$reps" | emit
    done
  done
done

log "step cost against n (ternary, [784,64,10] x 256, f64)"
kb w784_f64_ternary_n128 --mode train --bench train_step --rule ternary --density 2e-3 \
  --widths 784,64,10 --batch 256 --reps "$reps" | emit
# The per-direction GEMM of the second layer (A'_d W^T, K = 64*(5+3+1)), as emitted
# (64-row tiles) and as one call.
for shp in 64,10,576 256,10,576; do
  for impl in openblas kanrt; do
    "$work/cmake/gemm_bench" --impl $impl --dtype f64 --shape $shp --reps $((reps * 20)) \
      --bench gemm_tangent_small | emit
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

# --- 4. the PyTorch peer --------------------------------------------------------
if [[ $peer == 1 ]]; then
  if [[ -x "$peer_python" ]]; then
    mark peer
    log "PyTorch peer ($peer_python bench/torch/peer_bench.py$([[ $quick == 1 ]] && echo ' --quick'))"
    peer_args=()
    [[ $quick == 1 ]] && peer_args+=(--quick)
    "$peer_python" "$here/torch/peer_bench.py" "${peer_args[@]}" | emit || log "peer_bench.py failed"
    log "PyTorch peer, CPU time (bench/peer_cputime.py)"
    "$peer_python" "$here/peer_cputime.py" "${peer_args[@]}" | emit || log "peer_cputime.py failed"
  else
    echo "{\"skipped\": \"peer: $peer_python not found\"}" | emit
  fi
else
  echo '{"skipped": "peer: --no-peer"}' | emit
fi

# --- 5. summary -------------------------------------------------------------------
mark end
"$python" "$here/summarize.py" "$results" | emit
log "done; records in $results"
