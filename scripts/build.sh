#!/usr/bin/env bash
# Installs what is missing, configures (Ninja, Release, Debian's LLVM/MLIR 19)
# and builds the given targets (default: everything) in $BUILD_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DPython3_EXECUTABLE=/usr/bin/python3 -DKANRT_NATIVE="${KANRT_NATIVE:-OFF}" >/dev/null
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build "$BUILD_DIR" -j"${JOBS:-2}" "${targets[@]}"
