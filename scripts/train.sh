#!/usr/bin/env bash
# Installs what is missing, builds the tools and runs the main job:
# kan-train with its embedded default (KAN [784, 64, 10] on Fashion-MNIST,
# activity-perturbed forward gradients with Adam, f64; `--rule ternary` for
# noise_step). Extra arguments go to
# kan-train.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh kan-train
exec "${BUILD_DIR:-build}/bin/kan-train" "$@"
