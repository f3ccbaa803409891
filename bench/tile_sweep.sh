#!/usr/bin/env bash
# Sensitivity of the CPU target to its row tile (kan-translate --tile-rows):
# forward, ternary steps (n = 32, 128) and an fg step (n = 8) of
# [784,64,10] x 256, f64, for each tile size. One JSON line per measurement
# (kan_bench's fields plus "tile_rows").
#
#   bench/tile_sweep.sh [--build-dir DIR] [--reps R] [TILE ...]    (default: 16 64 256)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build="$repo/build"
reps=5
tiles=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build=$(cd "$2" && pwd); shift ;;
    --reps) reps="$2"; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) tiles+=("$1") ;;
  esac
  shift
done
[[ ${#tiles[@]} -gt 0 ]] || tiles=(16 64 256)
work="$build/bench-tiles"
mkdir -p "$work"
python3 "$here/make_model.py" --widths 784,64,10 -o "$work/model.mlir"
for t in "${tiles[@]}"; do
  for cfg in "fwd|forward|" \
             "ternary_n32|train|--train-step --rule ternary --n 32 --density 2e-3" \
             "ternary_n128|train|--train-step --rule ternary --n 128 --density 2e-3" \
             "fg_n8|train|--train-step --rule fg --dist normal --n 8"; do
    IFS='|' read -r name mode opts <<<"$cfg"
    d="$work/${name}_t$t"
    # shellcheck disable=SC2086
    "$build/bin/kan-translate" --target=cpu -o "$d" "$work/model.mlir" $opts --tile-rows "$t"
    cc -std=c99 -O3 -march=native -I"$repo/runtime/include" -I"$d" "$d/kan_model.c" \
      "$here/kan_bench.c" "$build/runtime/libkanrt.a" -lm -lz -o "$d/kan_bench"
    r=$reps
    [[ $name == fg_* ]] && r=3
    "$d/kan_bench" --mode "$mode" --bench "$name" --widths 784,64,10 --batch 256 --reps "$r" |
      sed "s/}\$/, \"tile_rows\": $t}/"
  done
done
