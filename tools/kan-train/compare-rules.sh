#!/usr/bin/env bash
# Runs kan-train's update rules side by side, each with its best settings and
# the same time budget, and prints the table of tools/kan-train/README.md
# ("Which rule wins"): steps, test accuracy, peak RSS, and the load average
# when the runs started and ended (the runs share the machine with each
# other and with whatever else runs on it).
#
#   tools/kan-train/compare-rules.sh [-b SECONDS] [-t THREADS] [-o DIR]
#                                    [-k KAN_TRAIN] [NAME='OPTIONS' ...]
#
# Without NAME='OPTIONS' arguments it runs the table's rows (below). Extra
# kan-train options for every run go in KAN_TRAIN_ARGS (for example
# "--data-dir DIR"). Each run writes its checkpoint, replay log, metrics,
# JSON summary (NAME.json) and stderr with the /usr/bin/time -v report
# (NAME.err) under DIR (default compare-rules-<date>).
#
# --memory CSV measures instead the memory of 10 steps of every row on the
# rows of CSV (a small data set, so that the data do not dominate): the RSS
# before the first step and the peak of the steps (kan-train's JSON) and the
# whole process's peak, next to PyTorch backprop's step
# (bench/torch/peer_bench.py --only train_memory) when Debian's torch is
# installed (PEER=0 skips it). KAN_TRAIN_ARGS="--batch 256" matches the
# peer's batch.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
budget=600 threads=2 out="" kt="${BUILD_DIR:-$root/build}/bin/kan-train" memcsv=""
while [ $# -gt 0 ]; do
  case "$1" in
    -b) budget=$2; shift 2 ;;
    -t) threads=$2; shift 2 ;;
    -o) out=$2; shift 2 ;;
    -k) kt=$2; shift 2 ;;
    --memory) memcsv=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "compare-rules.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) break ;;
  esac
done
if [ $# -eq 0 ]; then
  # The rows of the table: each rule's recipe (kan-train --help) and the
  # variants measured against it.
  set -- \
    "activity=" \
    "ternary=--rule ternary" \
    "ternary-momentum=--rule ternary --optimizer momentum --lr 1e-3" \
    "fg=--rule fg"
fi
[ -x "$kt" ] || { echo "compare-rules.sh: $kt is not built (bash scripts/build.sh kan-train)" >&2; exit 1; }
out=${out:-compare-rules-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$out"
load() { cut -d' ' -f1-3 /proc/loadavg; }
rss() { awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$1"; }
field() { /usr/bin/python3 -c 'import json,sys
try:
    j = json.loads(open(sys.argv[1]).read().splitlines()[-1])
except Exception:
    print("failed"); sys.exit()
v = j.get(sys.argv[2])
print("%.2f %%" % (100 * v) if sys.argv[2] == "test_accuracy" and v is not None
      else "{:,}".format(v) if isinstance(v, int) else v)' "$1" "$2"; }

if [ -n "$memcsv" ]; then
  echo "| run | options | before the steps | peak of the steps | added by the steps | whole process |"
  echo "|---|---|---|---|---|---|"
  for spec in "$@"; do
    name=${spec%%=*} opts=${spec#*=}
    # shellcheck disable=SC2086
    /usr/bin/time -v "$kt" --train-csv "$memcsv" --steps 10 --time-budget 0 \
      --threads "$threads" --eval-every 0 --work-dir "$out/mem-$name" $opts \
      ${KAN_TRAIN_ARGS:-} > "$out/mem-$name.json" 2> "$out/mem-$name.time"
    read -r before peak < <(/usr/bin/python3 -c 'import json,sys
j = json.loads(open(sys.argv[1]).read().splitlines()[-1])
print(j["rss_before_steps_mb"], j["peak_rss_steps_mb"])' "$out/mem-$name.json")
    echo "| $name | \`${opts:-(defaults)}\` | $before MiB | $peak MiB | $(/usr/bin/python3 -c "print('%.1f' % ($peak - $before))") MiB | $(rss "$out/mem-$name.time") MiB |"
  done
  if [ "${PEER:-1}" != 0 ] && /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    echo
    echo "PyTorch backprop (bench/torch/peer_bench.py --only train_memory):"
    /usr/bin/python3 "$root/bench/torch/peer_bench.py" --only train_memory --reps 1 | tee "$out/peer-memory.jsonl"
  fi
  exit 0
fi

echo "start $(date -u +%FT%TZ), load average $(load), budget $budget s, $threads threads per run, $# runs side by side" | tee "$out/load.txt"
pids=()
for spec in "$@"; do
  name=${spec%%=*} opts=${spec#*=}
  # shellcheck disable=SC2086
  /usr/bin/time -v "$kt" --time-budget "$budget" --threads "$threads" \
    --eval-every 0 --work-dir "$out/$name" $opts ${KAN_TRAIN_ARGS:-} \
    > "$out/$name.json" 2> "$out/$name.err" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done
echo "end $(date -u +%FT%TZ), load average $(load)" | tee -a "$out/load.txt"
sleep 1
echo
echo "| run | options | steps in $budget s | test accuracy | peak RSS |"
echo "|---|---|---|---|---|"
for spec in "$@"; do
  name=${spec%%=*} opts=${spec#*=}
  echo "| $name | \`${opts:-(defaults)}\` | $(field "$out/$name.json" steps) | $(field "$out/$name.json" test_accuracy) | $(rss "$out/$name.err") MiB |"
done | tee "$out/table.md"
