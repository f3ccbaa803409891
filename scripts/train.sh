#!/usr/bin/env bash
# Installs what is missing, builds the tools and runs the main job:
# kan-train with its embedded default (KAN [784, 64, 10] on Fashion-MNIST,
# noise_step with sparse ternary directions, f64). Extra arguments go to
# kan-train.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DPython3_EXECUTABLE=/usr/bin/python3 >/dev/null
cmake --build "$BUILD_DIR" -j"${JOBS:-2}" --target kan-train
exec "$BUILD_DIR/bin/kan-train" "$@"
