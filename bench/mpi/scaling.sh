#!/usr/bin/env bash
# Measurements behind the multi-rank figures of tools/kan-train/README.md:
# steps/s of KAN [784,64,10] on Fashion-MNIST for one process and two ranks
# (both partitions), the per-step cost split into a fixed part, a part per
# direction and a part per batch row, the update alone (replay), and the
# allgather latency of the exchanged blocks on this machine.
# Usage: bash bench/mpi/scaling.sh [BUILD_DIR] [STEPS]
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${1:-build}/bin
STEPS=${2:-150}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=${OMPI_MCA_btl:-self,vader}
MPIRUN="mpirun --oversubscribe -np"
common=(--rule ternary --steps "$STEPS" --eval-every 0 --checkpoint-every 0 --threads 1
        --work-dir "$W" --seed 1)
rate() { sed -n 's/.*"steps_per_second":\([0-9.e+-]*\).*/\1/p'; }
run() { # label, command...
  local label=$1; shift
  local r; r=$("$@" 2>/dev/null | tail -1 | rate)
  printf '%-44s %s steps/s\n' "$label" "$r"
}
# A first run compiles every variant (the cache is in $W).
"$B/kan-train" "${common[@]}" --steps 2 --checkpoint "$W/warm.safetensors" >/dev/null 2>&1
run "P=1 (no --partition)" "$B/kan-train" "${common[@]}" --checkpoint "$W/a.safetensors"
run "P=1 --partition directions" "$B/kan-train" "${common[@]}" --partition directions --checkpoint "$W/b.safetensors"
$MPIRUN 2 "$B/kan-train" "${common[@]}" --steps 2 --partition directions --checkpoint "$W/w2.safetensors" >/dev/null 2>&1
$MPIRUN 2 "$B/kan-train" "${common[@]}" --steps 2 --partition data --checkpoint "$W/w3.safetensors" >/dev/null 2>&1
run "P=2 --partition directions" $MPIRUN 2 "$B/kan-train" "${common[@]}" --partition directions --checkpoint "$W/c.safetensors"
run "P=2 --partition data" $MPIRUN 2 "$B/kan-train" "${common[@]}" --partition data --checkpoint "$W/d.safetensors"
# The cost model: directions n and batch rows B at P=1.
for n in 8 32; do
  "$B/kan-train" "${common[@]}" --steps 2 -n $n --checkpoint "$W/wn$n.safetensors" >/dev/null 2>&1
  run "P=1 --partition directions -n $n" "$B/kan-train" "${common[@]}" -n $n --partition directions --checkpoint "$W/n$n.safetensors"
done
for b in 32 64; do
  run "P=1 --partition data --batch $b" "$B/kan-train" "${common[@]}" --batch $b --partition data --checkpoint "$W/b$b.safetensors"
done
# The update alone: replaying the log of the first run.
t0=$(date +%s.%N)
"$B/kan-train" --replay "$W/a.replay" --output "$W/r.safetensors" >/dev/null 2>&1
t1=$(date +%s.%N)
python3 -c "print('update alone (replay of $STEPS steps): %.3f ms/step' % (($t1 - $t0) * 1000 / $STEPS))"
if command -v mpicc >/dev/null; then
  mpicc -O2 bench/mpi/allgather_latency.c -o "$W/allgather_latency"
  $MPIRUN 2 "$W/allgather_latency" 64 128
fi
