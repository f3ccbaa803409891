#!/usr/bin/env bash
# Old against new runtime, in one run: the same emitted models and gemm_bench
# linked once with each libkanrt.a, timed in interleaved rounds (the order of
# the two sides alternates per round), so load on a shared machine hits both.
#
#   bench/compare.sh --base-lib OLD/libkanrt.a [--build-dir DIR] [--work-dir W]
#                    [--rounds R] [--reps N] [--isa LEVEL] [--blas-core NAME]
#                    [--base-translate-opts "OPTS"] [--base-translate FILE]
#
# DIR (default <repo>/build) gives kan-translate and the new libkanrt.a; the
# models are emitted once, by DIR's kan-translate, so only the runtime differs.
# --base-translate-opts emits the base side's models a second time with OPTS
# added (e.g. "--input-tangent-kernel=jacobian --pregenerate-bytes=0", the
# kernels before a change of kernel choice): old against new generated code,
# linked with the same or different libraries. --base-translate FILE emits the
# base side's models with another kan-translate (e.g. the base commit's build),
# for changes of the emitted code itself.
# rng_bench (1 Mi normal draws, f64 and f32) runs on both sides too.
# --isa sets KAN_ISA for both sides. --blas-core NAME adds OpenBLAS (gemm_bench
# --impl openblas, OPENBLAS_CORETYPE=NAME, e.g. the best core type bench/run.sh
# found) to the GEMM rounds as a third side, "blas". Prints one JSON line per measurement
# ("side": "base" | "new", "round") and a last {"compare": ...} line with,
# per benchmark, the median over rounds of each side's median wall and CPU
# time and base / new ratios (speedups), and for the GEMMs the fraction of
# OpenBLAS (its time / ours) with --blas-core. Records are kept in W/compare.jsonl.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build="$repo/build"
work=""
base_lib=""
rounds=3
reps=11
isa=""
blas_core=""
base_opts=""
base_translate=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --base-lib) base_lib=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift ;;
    --build-dir) build=$(cd "$2" && pwd); shift ;;
    --work-dir) work="$2"; shift ;;
    --rounds) rounds="$2"; shift ;;
    --reps) reps="$2"; shift ;;
    --isa) isa="$2"; shift ;;
    --blas-core) blas_core="$2"; shift ;;
    --base-translate-opts) base_opts="$2"; shift ;;
    --base-translate) base_translate=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | grep '^#'; exit 0 ;;
    *) echo "compare.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[[ -f "$base_lib" ]] || { echo "compare.sh: --base-lib FILE (a libkanrt.a) is required" >&2; exit 2; }
new_lib="$build/runtime/libkanrt.a"
translate="$build/bin/kan-translate"
for f in "$new_lib" "$translate"; do
  [[ -e "$f" ]] || { echo "compare.sh: missing $f (build DIR first)" >&2; exit 1; }
done
[[ -z "$base_translate" || -x "$base_translate" ]] || { echo "compare.sh: --base-translate $base_translate is not an executable" >&2; exit 2; }
work=${work:-$build/bench-compare}
mkdir -p "$work/models"
work=$(cd "$work" && pwd)
log() { echo "[compare] $*" >&2; }
python=${PYTHON:-python3}
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
[[ -n "$isa" ]] && export KAN_ISA=$isa

# name|widths|batch|dtype|translate options
models=()
for dt in f64 f32; do
  for shape in "64,64,64|1024|w64" "784,64,10|256|w784"; do
    IFS='|' read -r widths batch tag <<<"$shape"
    models+=("${tag}_${dt}_fwd|$widths|$batch|$dt|")
    models+=("${tag}_${dt}_ternary_n32|$widths|$batch|$dt|--train-step --rule ternary --n 32 --density 2e-3 --lr 3e-3")
    models+=("${tag}_${dt}_fg_n8|$widths|$batch|$dt|--train-step --rule fg --dist normal --n 8 --lr 3e-3")
  done
done
cmake_models=()
base_models=()
log "emitting ${#models[@]} models"
for m in "${models[@]}"; do
  IFS='|' read -r name widths batch dt opts <<<"$m"
  d="$work/models/$name"
  mkdir -p "$d"
  "$python" "$here/make_model.py" --widths "$widths" --grid-size 5 --dtype "$dt" -o "$d/model.mlir"
  # shellcheck disable=SC2086
  "$translate" --target=cpu -o "$d" "$d/model.mlir" $opts
  cmake_models+=("$name=$d")
  if [[ -n "$base_opts" || -n "$base_translate" ]]; then
    mkdir -p "$work/models-base/$name"
    # shellcheck disable=SC2086
    "${base_translate:-$translate}" --target=cpu -o "$work/models-base/$name" "$d/model.mlir" $opts $base_opts
    base_models+=("$name=$work/models-base/$name")
  else
    base_models+=("$name=$d")
  fi
done
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
for side in base new; do
  lib=$base_lib
  side_models=("${base_models[@]}")
  [[ $side == new ]] && lib=$new_lib && side_models=("${cmake_models[@]}")
  log "compiling the $side side against $lib"
  cmake -S "$here" -B "$work/$side" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DKAN_BENCH_RUNTIME_LIB="$lib" "-DKAN_BENCH_MODELS=$(IFS=';'; echo "${side_models[*]}")" \
    >"$work/$side.log" 2>&1 || { cat "$work/$side.log" >&2; exit 1; }
  cmake --build "$work/$side" -j 2 >>"$work/$side.log" 2>&1 || { tail -30 "$work/$side.log" >&2; exit 1; }
done

out="$work/compare.jsonl"
: >"$out"
echo "{\"machine\": {\"cpu\": \"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')\", \"base_lib\": \"$base_lib\", \"new_lib\": \"$new_lib\", \"commit\": \"$(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)\", \"date\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\", \"kan_isa\": \"$isa\", \"base_translate_opts\": \"$base_opts\", \"base_translate\": \"$base_translate\", \"rounds\": $rounds, \"reps\": $reps}}" | tee -a "$out"

one() { # side round name args...
  local side=$1 round=$2
  shift 2
  "$@" | sed "s/}\$/, \"side\": \"$side\", \"round\": $round}/" | tee -a "$out"
}
for ((round = 1; round <= rounds; ++round)); do
  echo "{\"section\": \"round $round\", \"loadavg\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}" | tee -a "$out"
  sides=(base new)
  (( round % 2 == 0 )) && sides=(new base)
  for m in "${models[@]}"; do
    IFS='|' read -r name widths batch dt opts <<<"$m"
    for side in "${sides[@]}"; do
      case $name in
        *_fwd) one "$side" "$round" "$work/$side/kan_bench_$name" --mode forward --bench forward \
                 --widths "$widths" --batch "$batch" --reps "$reps" ;;
        *_ternary_*) one "$side" "$round" "$work/$side/kan_bench_$name" --mode train \
                 --bench train_step --rule ternary --density 2e-3 --widths "$widths" \
                 --batch "$batch" --reps "$reps" ;;
        *_fg_*) one "$side" "$round" "$work/$side/kan_bench_$name" --mode train \
                 --bench train_step --rule fg --widths "$widths" --batch "$batch" --reps "$reps" ;;
      esac
    done
  done
  for dt in f64 f32; do
    for shape in "64,64,64|1024" "784,64,10|256"; do
      IFS='|' read -r widths batch <<<"$shape"
      for side in "${sides[@]}"; do
        [[ -x "$work/$side/gemm_bench" ]] || continue
        one "$side" "$round" "$work/$side/gemm_bench" --impl kanrt --dtype $dt --widths "$widths" \
          --batch "$batch" --reps "$reps"
      done
      if [[ -n "$blas_core" && -x "$work/new/gemm_bench" ]]; then
        one blas "$round" env OPENBLAS_CORETYPE="$blas_core" "$work/new/gemm_bench" \
          --impl openblas --dtype $dt --widths "$widths" --batch "$batch" --reps "$reps"
      fi
    done
  done
  for dt in f64 f32; do
    for side in "${sides[@]}"; do
      [[ -x "$work/$side/rng_bench" ]] || continue
      one "$side" "$round" "$work/$side/rng_bench" --dist normal --dtype $dt \
        --size 1048576 --reps "$reps"
    done
  done
done

"$python" - "$out" <<'PY' | tee -a "$out"
import json, statistics, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
groups = {}
blas = {}
for r in recs:
    if "side" not in r:
        continue
    if r["side"] == "blas":
        b = blas.setdefault((tuple(r["widths"] or ()), r["batch"], r["dtype"]),
                            {"ms": [], "cpu": [], "core": r.get("blas_core")})
        b["ms"].append(r["median_ms"])
        b["cpu"].append(r["median_cpu_ms"])
        continue
    k = (r["impl"].replace("-cblas", ""), r["bench"], tuple(r["widths"] or ()), r["batch"],
         r["dtype"], r.get("ndir"), r.get("rule"), r.get("dist"))
    g = groups.setdefault(k, {"base": {"ms": [], "cpu": []}, "new": {"ms": [], "cpu": []}})
    g[r["side"]]["ms"].append(r["median_ms"])
    g[r["side"]]["cpu"].append(r["median_cpu_ms"])
rows = []
med = statistics.median
for k, g in groups.items():
    if not g["base"]["ms"] or not g["new"]["ms"]:
        continue
    b, n = (med(g["base"]["ms"]), med(g["new"]["ms"]))
    bc, nc = (med(g["base"]["cpu"]), med(g["new"]["cpu"]))
    row = {"impl": k[0], "bench": k[1], "widths": list(k[2]), "batch": k[3],
           "dtype": k[4], "ndir": k[5], "rule": k[6], "dist": k[7], "base_ms": b, "new_ms": n,
           "speedup": round(b / n, 3), "base_cpu_ms": bc, "new_cpu_ms": nc,
           "speedup_cpu": round(bc / nc, 3)}
    ob = blas.get((k[2], k[3], k[4])) if k[0].startswith("kanrt-gemm") else None
    if ob:
        row.update({"blas_core": ob["core"], "blas_ms": med(ob["ms"]),
                    "blas_cpu_ms": med(ob["cpu"]),
                    "new_fraction_of_blas": round(med(ob["ms"]) / n, 3),
                    "new_fraction_of_blas_cpu": round(med(ob["cpu"]) / nc, 3),
                    "base_fraction_of_blas_cpu": round(med(ob["cpu"]) / bc, 3)})
    rows.append(row)
print(json.dumps({"compare": rows}))
PY
log "done; records in $out"
