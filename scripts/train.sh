#!/usr/bin/env bash
# Installs what is missing, builds the tools and runs the main job:
# kan-train with its embedded default (KAN [784, 64, 10] on Fashion-MNIST,
# noise_step with sparse ternary directions, f64). Extra arguments go to
# kan-train.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh kan-train
exec "${BUILD_DIR:-build}/bin/kan-train" "$@"
