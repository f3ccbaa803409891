#!/usr/bin/env bash
# Installs what is missing, builds everything and runs every test
# (lit: FileCheck tests, GoogleTest unit tests, end-to-end tests).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DPython3_EXECUTABLE=/usr/bin/python3 >/dev/null
cmake --build "$BUILD_DIR" -j"${JOBS:-2}"
cmake --build "$BUILD_DIR" --target check-kan
